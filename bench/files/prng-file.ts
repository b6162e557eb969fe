// A file of pseudo-random bytes from a seed (xorshift128), written in 1 MiB blocks so that it is
// never in memory; returns its SHA-256. Random content: nothing compresses or deduplicates.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';

const MiB = 1024 * 1024;

export async function writePrngFile(path: string, bytes: number, seed: number): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  let x = seed >>> 0 || 1, y = 362436069, z = 521288629, w = 88675123;
  for (let done = 0; done < bytes; done += MiB) {
    const block = new Uint32Array(MiB / 4);
    for (let i = 0; i < block.length; i++) {
      const t = x ^ (x << 11);
      x = y; y = z; z = w;
      w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) >>> 0;
      block[i] = w;
    }
    const buf = Buffer.from(block.buffer, 0, Math.min(MiB, bytes - done));
    hash.update(buf);
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}
