// `get`'s side of a file: decrypts sealed chunks, in whatever order they come, into
// "<target>.trellis-part" at their offsets; once a file has all its chunks it is synced and renamed
// to its target. A file is open only while it is being written, so a folder of many files needs
// few descriptors (chunks come roughly in file order).
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fromHex } from '../../core/bytes.ts';
import { openChunk } from '../../crypto/stream-seal.ts';
import type { FileVersion } from './manifest.ts';

export const PART_SUFFIX = '.trellis-part';

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
  left: number;
  part: string;
  fh?: Promise<FileHandle>;
  done: boolean;
}

/** Decryption buffers kept for reuse: enough for the writes in flight at once. */
const SPARE_BUFFERS = 8;

export class Assembler {
  private readonly files: FileState[];
  private readonly positions = new Map<string, { file: FileState; index: number }[]>();
  private readonly onBytes: (n: number) => void;
  private readonly bufferBytes: number;
  private readonly spare: Uint8Array[] = [];

  constructor(targets: AssemblyTarget[], onBytes: (n: number) => void) {
    this.onBytes = onBytes;
    this.bufferBytes = Math.max(0, ...targets.map((t) => t.version.chunkSize));
    this.files = targets.map((target) => ({
      target, key: fromHex(target.version.fileKey), left: target.chunks.length, part: target.path + PART_SUFFIX, done: false,
    }));
    for (const file of this.files) {
      file.target.chunks.forEach((h, index) => {
        let p = this.positions.get(h);
        if (!p) { p = []; this.positions.set(h, p); }
        p.push({ file, index });
      });
    }
  }

  /** Distinct chunk hashes needed, in file order. */
  hashes(): string[] {
    return [...this.positions.keys()];
  }

  /** Creates the empty files (they need no chunk). */
  async start(): Promise<void> {
    for (const f of this.files) if (f.left === 0) await this.finish(f);
  }

  /**
   * Decrypts `sealed` into every place that uses it. False, with nothing written, if it does not
   * open with its file's key at its position (a damaged local copy, or a bad manifest).
   */
  async write(hash: string, sealed: Uint8Array): Promise<boolean> {
    const places = this.positions.get(hash) ?? [];
    const buffers: Uint8Array[] = [];
    try {
      const plains: Uint8Array[] = [];
      for (const { file, index } of places) {
        const v = file.target.version;
        const buffer = this.spare.pop() ?? new Uint8Array(this.bufferBytes);
        buffers.push(buffer);
        const plain = openChunk(sealed, file.key, index, v.chunkCount, buffer);
        const expected = index === v.chunkCount - 1 ? v.size - index * v.chunkSize : v.chunkSize;
        if (plain === null || plain.byteLength !== expected) return false;
        plains.push(plain);
      }
      for (let i = 0; i < places.length; i++) {
        const { file, index } = places[i];
        const fh = await this.handle(file);
        const plain = plains[i];
        let o = 0;
        while (o < plain.byteLength) {
          const { bytesWritten } = await fh.write(plain, o, plain.byteLength - o, index * file.target.version.chunkSize + o);
          o += bytesWritten;
        }
        this.onBytes(plain.byteLength);
        if (--file.left === 0) await this.finish(file);
      }
      return true;
    } finally {
      // Written (or failed) by now: nothing refers to them any more.
      for (const b of buffers) if (this.spare.length < SPARE_BUFFERS) this.spare.push(b);
    }
  }

  private handle(file: FileState): Promise<FileHandle> {
    file.fh ??= (async () => {
      await mkdir(dirname(file.part), { recursive: true });
      return open(file.part, 'w');
    })();
    return file.fh;
  }

  private async finish(file: FileState): Promise<void> {
    const fh = await this.handle(file);
    await fh.datasync();
    await fh.close();
    file.fh = undefined;
    await rename(file.part, file.target.path);
    file.done = true;
  }

  /** After a failure: closes and removes the partial files (the chunks stay in the store). */
  async abandon(): Promise<void> {
    for (const f of this.files) {
      if (f.done) continue;
      const fh = f.fh;
      f.fh = undefined;
      if (fh) await fh.then((h) => h.close()).catch(() => undefined);
      if (fh) await rm(f.part, { force: true }).catch(() => undefined);
    }
  }

  /** Files fully written, with their paths. */
  completed(): AssemblyTarget[] {
    return this.files.filter((f) => f.done).map((f) => f.target);
  }
}
