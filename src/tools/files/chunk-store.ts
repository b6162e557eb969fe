// Sealed chunks on disk: <home>/chunks/xx/<sha256 hex>, where xx is the hash's first byte. A chunk
// is written to chunks/tmp/ and renamed into place, so a chunk file under its name is always
// complete as far as this process is concerned.
//
// Durability: chunks are not fsynced one by one (a 1 GiB file is 4,096 chunks). A chunk torn by a
// power loss is caught where it is used: fetchers check the SHA-256 of everything they receive, and
// decryption (AEAD) fails on a damaged chunk, which is then deleted and fetched again. Only
// chunks of a local `add` have no other copy; `add` syncs them all at once (syncMany) before
// their manifest entry is written.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const HASH_HEX = /^[0-9a-f]{64}$/;

export class ChunkStore {
  readonly dir: string;
  private readonly tmp: string;
  private readonly madeDirs = new Set<string>();

  constructor(dir: string) {
    this.dir = dir;
    this.tmp = join(dir, 'tmp');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Leftovers of writes cut short by a crash.
    if (existsSync(this.tmp)) rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { mode: 0o700 });
  }

  path(hashHex: string): string {
    if (!HASH_HEX.test(hashHex)) throw new Error('not a SHA-256 hex hash');
    return join(this.dir, hashHex.slice(0, 2), hashHex);
  }

  has(hashHex: string): boolean {
    return existsSync(this.path(hashHex));
  }

  /** The sealed chunk, or undefined if not held. `reserve` free bytes are left in front of it (for a frame header). */
  async read(hashHex: string, reserve = 0): Promise<Uint8Array | undefined> {
    const p = this.path(hashHex);
    if (reserve === 0) {
      try { return await readFile(p); } catch (err) { if (isMissing(err)) return undefined; throw err; }
    }
    let fh;
    try { fh = await open(p, 'r'); } catch (err) { if (isMissing(err)) return undefined; throw err; }
    try {
      const { size } = await fh.stat();
      const out = Buffer.allocUnsafe(reserve + size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(out, reserve + got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === size ? out : out.subarray(0, reserve + got);
    } finally {
      await fh.close();
    }
  }

  /**
   * Like read(), synchronously: what the chunk server uses. A 256 KiB read from the page cache
   * blocks for about 0.1 ms, while the promise API's open/stat/read/close hand-offs to the thread
   * pool cost about half a millisecond of CPU per chunk, as much as sending it. `alloc` gives the
   * buffer to read into (from a pool of reused ones, say).
   */
  readSync(hashHex: string, reserve = 0, alloc: (n: number) => Uint8Array = (n) => Buffer.allocUnsafe(n)): Uint8Array | undefined {
    let fd: number;
    try { fd = openSync(this.path(hashHex), 'r'); } catch (err) { if (isMissing(err)) return undefined; throw err; }
    try {
      const size = fstatSync(fd).size;
      const out = alloc(reserve + size);
      let got = 0;
      while (got < size) {
        const n = readSync(fd, out, reserve + got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      return got === size ? out : out.subarray(0, reserve + got);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Stores a sealed chunk under its hash (the caller has checked it); nothing if held already.
   * `durable`: the chunk is on disk when this resolves, even across a power loss (its data is
   * synced before the rename, the directory after it). A relay promises that before it answers
   * STORED, since the member may then go offline with the only other copy.
   */
  async write(hashHex: string, sealed: Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
    const final = this.path(hashHex);
    if (existsSync(final)) return;
    const sub = hashHex.slice(0, 2);
    if (!this.madeDirs.has(sub)) {
      await mkdir(join(this.dir, sub), { recursive: true, mode: 0o700 });
      this.madeDirs.add(sub);
    }
    const temp = join(this.tmp, `${hashHex}.${randomBytes(6).toString('hex')}`);
    try {
      if (opts.durable) {
        const fh = await open(temp, 'wx', 0o600);
        try {
          await fh.writeFile(sealed);
          await fh.datasync();
        } finally {
          await fh.close();
        }
      } else {
        await writeFile(temp, sealed, { mode: 0o600 });
      }
      await rename(temp, final);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
    if (opts.durable) {
      const dir = await open(join(this.dir, sub), 'r');
      try { await dir.sync(); } finally { await dir.close(); }
    }
  }

  /**
   * Makes stored chunks durable: fdatasync of each, several at once. Done once after sealing a
   * whole file rather than chunk by chunk: concurrent syncs share journal commits, about ten times
   * cheaper than one sync per chunk written.
   */
  async syncMany(hashes: readonly string[], parallel = 16): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < hashes.length) {
        const fh = await open(this.path(hashes[next++]), 'r');
        try { await fh.datasync(); } finally { await fh.close(); }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, hashes.length) }, worker));
    // The renames that put them in place live in the directories.
    const dirs = new Set(hashes.map((h) => h.slice(0, 2)));
    await Promise.all([...dirs].map(async (d) => {
      const fh = await open(join(this.dir, d), 'r');
      try { await fh.sync(); } finally { await fh.close(); }
    }));
  }

  async remove(hashHex: string): Promise<void> {
    await rm(this.path(hashHex), { force: true });
  }

  removeSync(hashHex: string): void {
    rmSync(this.path(hashHex), { force: true });
  }

  async size(hashHex: string): Promise<number | undefined> {
    try { return (await stat(this.path(hashHex))).size; } catch (err) { if (isMissing(err)) return undefined; throw err; }
  }

  /** Hashes of every held chunk (tests, diagnostics). */
  list(): string[] {
    const out: string[] = [];
    for (const sub of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const f of readdirSync(join(this.dir, sub))) if (HASH_HEX.test(f)) out.push(f);
    }
    return out;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
