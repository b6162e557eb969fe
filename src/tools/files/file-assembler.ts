// `get`'s side of a file: decrypts sealed chunks, in whatever order they come, into
// "<target>.trellis-part" at their offsets; once a file has all its chunks it is truncated to its
// size, synced and renamed to its target. A file is open only while it is being written, so a
// folder of many files needs few descriptors (chunks come roughly in file order).
//
// Resuming: sealing is deterministic (the nonce comes from the chunk index, the key is the
// version's), so a block of a partial file can be checked against the manifest by sealing it
// again and comparing the SHA-256. resume() does that for every block of an existing partial file:
// blocks that match are done, whatever interrupted the last attempt (a killed daemon, a lost
// connection, a power loss that kept only some writes); anything else (zeros of a sparse file, a
// torn write, a partial file of another version) is fetched again. No journal to keep in step.
//
// Files are opened and read (to resume) with synchronous calls, and written with fs.write's
// callback API on the thread pool: writes may take milliseconds in the kernel and must not stall
// the event loop that receives the next chunks, while the promise API (FileHandle) costs several
// times more CPU per chunk in hand-offs, which at transfer speed is measurable.
//
// Where the platform and file system allow it (Linux, O_DIRECT), the blocks bypass the page cache:
// a download is written once and rarely read back at once, and copying it through the cache cost
// the receiver more CPU than decrypting it (on a VM, first touches of free memory are expensive),
// plus a long fdatasync at the end for everything still dirty. Direct writes need aligned memory,
// offsets and lengths: blocks are decrypted into page-aligned buffers, a file's last block is
// padded with zeros to the alignment (the file is truncated to its size when complete), and a file
// whose chunk size is not a multiple of the alignment, or a file system that refuses O_DIRECT, is
// written through the cache as before.
import { closeSync, constants, fdatasync, ftruncateSync, mkdirSync, openSync, readSync, write } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { fromHex } from '../../core/bytes.ts';
import { CHUNK_OVERHEAD, decryptVerifiedChunk, openChunk, sealChunk, sha256Hex } from '../../crypto/stream-seal.ts';
import { AlignedBuffers, alignUp, DIRECT_ALIGN } from './aligned-buffers.ts';
import type { FileVersion } from './manifest.ts';

export const PART_SUFFIX = '.trellis-part';
/** O_DIRECT where the platform has it (Linux). */
const DIRECT: number | undefined = (constants as { O_DIRECT?: number }).O_DIRECT;
/** Decryption buffers kept for reuse: enough for the writes in flight at once. */
const SPARE_BUFFERS = 8;

export interface AssemblyTarget {
  name: string;
  version: FileVersion;
  /** Chunk hashes of the version, in order. */
  chunks: string[];
  /** Absolute destination path. */
  path: string;
}

interface FileState {
  target: AssemblyTarget;
  key: Uint8Array;
  /** Chunks still to write. */
  left: number;
  done: boolean[];
  part: string;
  /** Open the partial file without truncating it (it holds verified blocks). */
  keep: boolean;
  fd?: number;
  /** The open fd bypasses the page cache (O_DIRECT): writes must be aligned. */
  direct: boolean;
  /** Direct fds given up for cached writes, closed with the file. */
  retired: number[];
  finished: boolean;
}

interface Place { file: FileState; index: number }

export class Assembler {
  private readonly files: FileState[];
  private readonly positions = new Map<string, Place[]>();
  private readonly onBytes: (n: number) => void;
  private readonly bufferBytes: number;
  private readonly spare: AlignedBuffers;

  private readonly writeAt: WriteAt;

  /** `writeAt`: the positional write (a parameter for tests that play a file system refusing direct writes). */
  constructor(targets: AssemblyTarget[], onBytes: (n: number) => void, writeAt: WriteAt = writeOnPool) {
    this.onBytes = onBytes;
    this.writeAt = writeAt;
    this.bufferBytes = Math.max(0, ...targets.map((t) => t.version.chunkSize));
    this.spare = new AlignedBuffers(alignUp(this.bufferBytes), SPARE_BUFFERS);
    this.files = targets.map((target) => ({
      target, key: fromHex(target.version.fileKey), left: target.chunks.length, done: new Array<boolean>(target.chunks.length).fill(false),
      part: target.path + PART_SUFFIX, keep: false, direct: false, retired: [], finished: false,
    }));
    for (const file of this.files) {
      file.target.chunks.forEach((h, index) => {
        let p = this.positions.get(h);
        if (!p) { p = []; this.positions.set(h, p); }
        p.push({ file, index });
      });
    }
  }

  /**
   * Checks the blocks of partial files left by an earlier attempt; returns how many chunks they
   * already hold. Creates the empty files (they need no chunk).
   */
  async resume(): Promise<number> {
    let found = 0;
    const plain = new Uint8Array(this.bufferBytes);
    const sealed = new Uint8Array(this.bufferBytes + CHUNK_OVERHEAD);
    for (const f of this.files) {
      const v = f.target.version;
      const size = await stat(f.part).then((s) => (s.isFile() ? s.size : -1), () => -1);
      if (size > 0 && v.chunkCount > 0) {
        const fd = openSync(f.part, 'r');
        try {
          for (let i = 0; i < v.chunkCount; i++) {
            const len = blockBytes(v, i);
            if (i * v.chunkSize + len > size) break;
            if (readFully(fd, plain.subarray(0, len), i * v.chunkSize) !== len) break;
            if (sha256Hex(sealChunk(plain.subarray(0, len), f.key, i, v.chunkCount, sealed)) !== f.target.chunks[i]) continue;
            f.done[i] = true;
            f.left--;
            found++;
            this.onBytes(len);
          }
        } finally {
          closeSync(fd);
        }
        f.keep = true;
      }
      if (f.left === 0) await this.finish(f);
    }
    return found;
  }

  /** Distinct chunk hashes still needed, in file order. */
  hashes(): string[] {
    const out: string[] = [];
    for (const [h, places] of this.positions) if (places.some((p) => !p.file.done[p.index])) out.push(h);
    return out;
  }

  /**
   * Decrypts `sealed` into every place that still needs it. False, with nothing written, if it
   * does not open with its file's key at its position (a damaged local copy, or a bad manifest).
   * `verified`: its SHA-256 was checked to be `hash` (a chunk from the network); then only a file's
   * first chunk has its tag checked, which still tells a manifest whose key is wrong, and the
   * others are decrypted without (decryptVerifiedChunk). A chunk read from the local store is
   * checked in full: the tag is what catches a copy damaged on disk.
   */
  async write(hash: string, sealed: Uint8Array, verified = false): Promise<boolean> {
    const places = (this.positions.get(hash) ?? []).filter((p) => !p.file.done[p.index]);
    const buffers: Buffer[] = [];
    try {
      const plains: Uint8Array[] = [];
      for (const { file, index } of places) {
        const v = file.target.version;
        const buffer = this.spare.take();
        buffers.push(buffer);
        const size = blockBytes(v, index);
        if (sealed.byteLength !== size + CHUNK_OVERHEAD) return false;
        const plain = verified && index > 0 ? decryptVerifiedChunk(sealed, file.key, index, v.chunkCount, buffer) : openChunk(sealed, file.key, index, v.chunkCount, buffer);
        if (plain === null) return false;
        plains.push(plain);
      }
      for (let i = 0; i < places.length; i++) {
        const { file, index } = places[i];
        if (file.done[index]) continue;
        file.done[index] = true;
        await this.writeBlock(file, buffers[i], plains[i].byteLength, index * file.target.version.chunkSize);
        this.onBytes(plains[i].byteLength);
        if (--file.left === 0) await this.finish(file);
      }
      return true;
    } finally {
      // Written (or failed) by now: nothing refers to them any more.
      for (const b of buffers) this.spare.give(b);
    }
  }

  /** Writes the first `length` bytes of `block` (an aligned buffer) at `position`. */
  private async writeBlock(file: FileState, block: Buffer, length: number, position: number): Promise<void> {
    const fd = this.handle(file);
    if (file.direct) {
      const padded = alignUp(length);
      block.fill(0, length, padded);
      try {
        let o = 0;
        while (o < padded) o += await this.writeAt(fd, block, o, padded - o, position + o);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        // A file system that took O_DIRECT at open but not these writes: go through the cache from
        // now on. The direct fd stays open until the file is done (other writes may be using it).
        if (file.fd === fd) {
          file.retired.push(fd);
          file.fd = undefined;
          file.keep = true;
          this.handle(file, false);
        }
      }
    }
    const cached = this.handle(file);
    let o = 0;
    while (o < length) o += await this.writeAt(cached, block, o, length - o, position + o);
  }

  private handle(file: FileState, direct = true): number {
    if (file.fd === undefined) {
      mkdirSync(dirname(file.part), { recursive: true });
      const flags = file.keep ? constants.O_RDWR : constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
      file.direct = false;
      if (direct && DIRECT !== undefined && file.target.version.chunkSize % DIRECT_ALIGN === 0) {
        try {
          file.fd = openSync(file.part, flags | DIRECT, 0o666);
          file.direct = true;
        } catch (err) {
          // EINVAL: this file system has no direct I/O (tmpfs, some FUSE mounts).
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        }
      }
      file.fd ??= openSync(file.part, flags, 0o666);
    }
    return file.fd;
  }

  private async finish(file: FileState): Promise<void> {
    const fd = this.handle(file);
    try {
      // A partial file of a longer version may have left bytes beyond the end.
      ftruncateSync(fd, file.target.version.size);
      await datasync(fd);
    } finally {
      closeSync(fd);
      file.fd = undefined;
      closeRetired(file);
    }
    await rename(file.part, file.target.path);
    file.finished = true;
  }

  /**
   * After a failure: closes the partial files and keeps them, so the next attempt resumes from
   * what they hold. `discard` removes them instead.
   */
  async abandon(discard = false): Promise<void> {
    for (const f of this.files) {
      if (f.finished) continue;
      const fd = f.fd;
      f.fd = undefined;
      if (fd !== undefined) try { closeSync(fd); } catch { /* closed already */ }
      closeRetired(f);
      if (discard) await rm(f.part, { force: true }).catch(() => undefined);
    }
  }

  /** Files fully written, with their paths. */
  completed(): AssemblyTarget[] {
    return this.files.filter((f) => f.finished).map((f) => f.target);
  }
}

const datasync = promisify(fdatasync);

function closeRetired(file: FileState): void {
  for (const fd of file.retired.splice(0)) try { closeSync(fd); } catch { /* closed already */ }
}

/** A positional write: resolves with the bytes written. */
export type WriteAt = (fd: number, data: Uint8Array, offset: number, length: number, position: number) => Promise<number>;

/** One positional write on the thread pool (the callback API: no FileHandle or promise machinery per call). */
function writeOnPool(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, data, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

function readFully(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.byteLength) {
    const n = readSync(fd, into, got, into.byteLength - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function blockBytes(v: FileVersion, index: number): number {
  return index === v.chunkCount - 1 ? v.size - index * v.chunkSize : v.chunkSize;
}
