// `add`'s side of a file: reads a local file once, in chunk-sized pieces, seals each piece with a
// fresh file key and stores it under its hash. Holds three chunk buffers, reused: the next piece is
// read and sealed while the previous one is being written.
//
// Chunk size: 256 KiB, doubled for big files until a file has at most about a thousand chunks, up
// to 1 MiB (as Syncthing scales its blocks): every chunk costs a hash in the manifest (which every
// member and relay syncs), a file in each chunk store, and per-chunk work on both ends of a
// transfer, while a bigger chunk only costs more memory per chunk in flight (bounded in bytes by
// the fetcher) and a little more to refetch after an interruption.
import { open } from 'node:fs/promises';
import { toHex } from '../../core/bytes.ts';
import { TrellisError } from '../../core/errors.ts';
import { CHUNK_OVERHEAD, newFileKey, sealChunk, sha256Hex } from '../../crypto/stream-seal.ts';
import type { AddRecord } from './add-journal.ts';
import type { ChunkStore } from './chunk-store.ts';

/** Plaintext bytes per chunk of a file up to 256 MiB. */
export const CHUNK_SIZE = 256 * 1024;
/** The largest chunk size add chooses. */
const BIG_CHUNK_SIZE = 1024 * 1024;
/** Chunks a file may have before its chunk size is doubled (up to BIG_CHUNK_SIZE). */
const TARGET_CHUNKS = 1024;

/** The chunk size add uses for a file of `size` bytes. */
export function chunkSizeFor(size: number): number {
  let c = CHUNK_SIZE;
  while (c < BIG_CHUNK_SIZE && size > c * TARGET_CHUNKS) c *= 2;
  return c;
}

export interface SealedFile {
  size: number;
  chunkSize: number;
  fileKey: string;
  chunks: string[];
}

export interface SealOptions {
  /** Make the chunks durable before returning (chunks of an add have no other copy yet). */
  sync: boolean;
  signal?: AbortSignal;
  chunkSize?: number;
  /** Told of each chunk before it is stored (so a start after a crash can remove them). */
  journal?: AddRecord;
}

export async function sealFile(path: string, store: ChunkStore, onBytes: (n: number) => void, opts: SealOptions): Promise<SealedFile> {
  const fh = await open(path, 'r');
  const chunks: string[] = [];
  let pending: Promise<void> | undefined;
  try {
    const { size } = await fh.stat();
    const chunkSize = opts.chunkSize ?? chunkSizeFor(size);
    const count = Math.ceil(size / chunkSize);
    const key = newFileKey();
    const buf = Buffer.allocUnsafe(chunkSize);
    const out = [Buffer.allocUnsafe(chunkSize + CHUNK_OVERHEAD), Buffer.allocUnsafe(chunkSize + CHUNK_OVERHEAD)];
    for (let i = 0; i < count; i++) {
      if (opts.signal?.aborted) throw new TrellisError('unavailable', 'adding was cancelled');
      const want = Math.min(chunkSize, size - i * chunkSize);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, i * chunkSize + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got !== want) throw new TrellisError('conflict', `${path} shrank while it was being added: add it again once it is complete`);
      // Sealed into the buffer that the write before the pending one used: that write is done.
      const sealed = sealChunk(buf.subarray(0, want), key, i, count, out[i % 2]);
      const hash = sha256Hex(sealed);
      chunks.push(hash);
      await pending;
      opts.journal?.storing(hash);
      pending = store.write(hash, sealed).then(() => onBytes(want));
    }
    await pending;
    if (opts.sync) await store.syncMany(chunks);
    // A file that grew while being read would be stored cut short without a word: say so instead.
    if ((await fh.stat()).size !== size) throw new TrellisError('conflict', `${path} changed size while it was being added: add it again once it is complete`);
    return { size, chunkSize, fileKey: toHex(key), chunks };
  } catch (err) {
    // Nothing refers to the chunks of an add that failed (their key is this add's own): they would
    // only take space, and a full disk is a common reason to fail here.
    await pending?.catch(() => undefined);
    for (const h of chunks) await store.remove(h).catch(() => undefined);
    throw err;
  } finally {
    await fh.close();
  }
}
