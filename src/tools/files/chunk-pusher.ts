// The pushing side of /trellis/chunks-push/1.0.0: a member hands sealed chunks to a relay of the
// workspace, so that others can fetch them while the member is offline. It asks first (HAVE, 64
// hashes at a time) and sends only what the relay lacks. At most `window` PUTs are unanswered at
// once and each chunk is read from disk just before it is sent, so memory stays at a few chunks
// whatever the file size; the relay answers STORED only once a chunk is on its disk, which paces us.
import { toHex } from '../../core/bytes.ts';
import type { ByteStream } from '../../core/byte-stream.ts';
import { CHUNK_HEADER_BYTES, ChunkFrameType, CHUNKS_VERSION, encodeChunkFrame, fillChunkHeader, MAX_WANT, type ChunkFrame } from './chunk-frames.ts';
import { readChunkFrames, withTimeout } from './frame-reader.ts';
import { sendBuffers } from './send-buffers.ts';

export interface PushOptions {
  /** 16-byte workspace id. */
  workspace: Uint8Array;
  open: () => Promise<ByteStream>;
  /**
   * The sealed chunk with `reserve` free bytes in front of it, in a buffer from `alloc`, or
   * undefined if no longer held here.
   */
  read: (hashHex: string, reserve: number, alloc: (n: number) => Uint8Array) => Uint8Array | undefined;
  /** Called for every chunk the relay holds now (it had it, or stored it). */
  confirmed?: (hashHex: string) => void;
  /** PUTs sent and not yet answered. Default 8. */
  window?: number;
  /** How long the relay may take to answer one frame. Default 60 s. */
  replyMs?: number;
  signal?: AbortSignal;
}

export interface PushResult {
  /** Chunks the relay held already. */
  held: number;
  /** Chunks sent and stored, and their bytes. */
  pushed: number;
  bytes: number;
  /** Chunks the relay lacked that are no longer held here. */
  skipped: number;
}

/** The relay refused (ERROR frame): `code` is e.g. forbidden, not-found, quota. */
export class PushRefused extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'PushRefused';
    this.code = code;
  }
}

const DEFAULT_WINDOW = 8;
/** The largest frame a relay answers with: an ERROR (a HELD is 67 bytes). */
const MAX_REPLY_FRAME = 4096;

type Expected = { kind: 'stored'; hash: string; bytes: number } | { kind: 'held'; hashes: string[] };

/** Pushes the chunks of `hashes` (hex) that the relay lacks. Rejects with PushRefused or a transport Error. */
export async function pushChunks(hashes: readonly string[], opts: PushOptions): Promise<PushResult> {
  const result: PushResult = { held: 0, pushed: 0, bytes: 0, skipped: 0 };
  if (hashes.length === 0) return result;
  const window = Math.max(1, opts.window ?? DEFAULT_WINDOW);
  const replyMs = opts.replyMs ?? 60_000;
  const stream = await opts.open();
  const onAbort = (): void => stream.abort(new Error('the push was cancelled'));
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();
  const frames = readChunkFrames(stream, MAX_REPLY_FRAME);
  const expected: Expected[] = [];
  let unanswered = 0;
  let clean = false;

  /** Reads one answer; returns the hashes the relay lacks when it was the answer to a HAVE. */
  const readOne = async (): Promise<string[] | undefined> => {
    const r = await withTimeout(frames.next(), replyMs, 'the relay did not answer in time');
    if (r.done) throw new Error('the relay closed the stream');
    const f = r.value;
    if (f.type === ChunkFrameType.error) throw new PushRefused(f.code, f.message);
    const e = expected.shift();
    if (!e) throw new Error(`protocol error: unexpected frame type ${f.type}`);
    if (e.kind === 'stored') {
      if (f.type !== ChunkFrameType.stored || toHex(f.hash) !== e.hash) throw new Error('protocol error: expected STORED for the oldest PUT');
      unanswered--;
      result.pushed++;
      result.bytes += e.bytes;
      opts.confirmed?.(e.hash);
      return undefined;
    }
    if (f.type !== ChunkFrameType.held || f.flags.length !== e.hashes.length) throw new Error('protocol error: expected HELD for the HAVE');
    const lacking: string[] = [];
    f.flags.forEach((has, i) => {
      if (!has) { lacking.push(e.hashes[i]); return; }
      result.held++;
      opts.confirmed?.(e.hashes[i]);
    });
    return lacking;
  };

  try {
    await stream.write(encodeChunkFrame({ type: ChunkFrameType.hello, version: CHUNKS_VERSION, workspace: opts.workspace }));
    const first = await withTimeout(frames.next(), replyMs, 'no answer to HELLO');
    if (first.done) throw new Error('the relay closed the stream');
    expectReady(first.value);
    for (let i = 0; i < hashes.length; i += MAX_WANT) {
      const batch = hashes.slice(i, i + MAX_WANT);
      await stream.write(encodeChunkFrame({ type: ChunkFrameType.have, hashes: batch.map((h) => Buffer.from(h, 'hex')) }));
      expected.push({ kind: 'held', hashes: batch });
      // Answers come in order: the PUTs of the previous batch are answered before this HAVE.
      let lacking: string[] | undefined;
      while (lacking === undefined) lacking = await readOne();
      for (const h of lacking) {
        while (unanswered >= window) await readOne();
        const frame = opts.read(h, CHUNK_HEADER_BYTES, (n) => sendBuffers.take(n));
        if (frame === undefined || frame.byteLength <= CHUNK_HEADER_BYTES) {
          if (frame !== undefined) sendBuffers.give(frame);
          result.skipped++;
          continue;
        }
        await stream.write(fillChunkHeader(frame, Buffer.from(h, 'hex'), ChunkFrameType.put), () => sendBuffers.give(frame));
        expected.push({ kind: 'stored', hash: h, bytes: frame.byteLength - CHUNK_HEADER_BYTES });
        unanswered++;
      }
    }
    while (expected.length > 0) await readOne();
    clean = true;
    return result;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (clean) await stream.close().catch(() => stream.abort());
    else stream.abort();
    void frames.return(undefined).catch(() => undefined);
  }
}

function expectReady(f: ChunkFrame): void {
  if (f.type === ChunkFrameType.ready) return;
  if (f.type === ChunkFrameType.error) throw new PushRefused(f.code, f.message);
  throw new Error(`protocol error: expected READY, got frame type ${f.type}`);
}
