// The assembler writes a file from sealed chunks arriving in any order. Where the file system
// allows it, blocks bypass the page cache (O_DIRECT): the last block is padded to the alignment and
// the file cut to its size at the end. These tests check the bytes with direct I/O (where the temp
// dir's file system has it, as Linux's ext4/xfs do), and with a
// chunk size that is not a multiple of the alignment (written through the cache). A file system
// that refuses O_DIRECT takes the cached path too (newer kernels give even tmpfs direct I/O, so
// that fallback is not exercised here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as Y from 'yjs';
import { join } from 'node:path';
import { newFileKey, sealChunk, sha256Hex } from '../../src/crypto/stream-seal.ts';
import { Assembler, PART_SUFFIX, type WriteAt } from '../../src/tools/files/file-assembler.ts';
import type { FileVersion } from '../../src/tools/files/manifest.ts';

const O_DIRECT = (constants as { O_DIRECT?: number }).O_DIRECT;

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; out[i] = x & 0xff; }
  return out;
}

function sealed(content: Uint8Array, chunkSize: number): { version: FileVersion; chunks: Uint8Array[]; hashes: string[] } {
  const key = newFileKey();
  const count = Math.ceil(content.byteLength / chunkSize);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) chunks.push(sealChunk(content.subarray(i * chunkSize, (i + 1) * chunkSize), key, i, count));
  const version: FileVersion = {
    id: 'v1', name: 'f.bin', claimed: 1, version: 1, size: content.byteLength, chunkSize, chunkCount: count,
    fileKey: Buffer.from(key).toString('hex'), author: 'a'.repeat(64), time: 1, deleted: false, chunkList: new Y.Array(),
  };
  return { version, chunks, hashes: chunks.map(sha256Hex) };
}

/** Does this directory's file system take O_DIRECT? */
function directWorks(dir: string): boolean {
  if (O_DIRECT === undefined) return false;
  const probe = join(dir, 'probe');
  try { closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | O_DIRECT)); return true; } catch { return false; } finally { rmSync(probe, { force: true }); }
}

/** Flags of this process's open fds on `path` (from /proc), to see whether O_DIRECT is in use. */
function openFlags(path: string): number[] {
  const out: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target !== path) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) out.push(parseInt(m[1], 8));
  }
  return out;
}

async function assemble(dir: string, size: number, chunkSize: number, expectDirect: boolean): Promise<void> {
  const content = bytes(size, size);
  const { version, chunks, hashes } = sealed(content, chunkSize);
  const path = join(dir, `out-${size}-${chunkSize}.bin`);
  const asm = new Assembler([{ name: 'f.bin', version, chunks: hashes, path }], () => undefined);
  // Last chunk first, then the rest backwards: the file grows from its end, out of order.
  // Every other chunk as if its hash had been checked (from the network): decrypted without its tag.
  for (let i = chunks.length - 1; i >= 0; i--) {
    assert.equal(await asm.write(hashes[i], chunks[i], i % 2 === 1), true);
    if (i === chunks.length - 1 && chunks.length > 1 && process.platform === 'linux') {
      const flags = openFlags(path + PART_SUFFIX);
      assert.equal(flags.length, 1, 'one fd on the partial file while it is written');
      assert.equal((flags[0] & (O_DIRECT ?? 0)) !== 0, expectDirect, `O_DIRECT ${expectDirect ? 'in use' : 'not in use'} on ${dir}`);
    }
  }
  assert.deepEqual(asm.completed().map((t) => t.path), [path]);
  assert.equal(existsSync(path + PART_SUFFIX), false);
  assert.equal(statSync(path).size, size, 'the padding of the last block is cut off');
  assert.equal(Buffer.compare(readFileSync(path), content), 0);
}

test('assembler: out-of-order chunks make the exact file, with direct I/O where the file system has it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-assembler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const direct = directWorks(dir);
  // Sizes around the alignment: a partial last block, whole blocks only, one byte, one block plus one.
  for (const size of [3 * 65536 + 1234, 4 * 65536, 1, 4097]) await assemble(dir, size, 65536, direct);
  // A chunk size that is not a multiple of 4096 cannot be written directly: through the cache.
  await assemble(dir, 5 * 5000 + 17, 5000, false);
});

test('assembler: a manifest with the wrong key is caught on the first chunk even when hashes were checked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-assembler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const content = bytes(3 * 65536, 7);
  const { version, chunks, hashes } = sealed(content, 65536);
  const wrong = { ...version, fileKey: Buffer.from(newFileKey()).toString('hex') };
  const path = join(dir, 'wrong-key.bin');
  const asm = new Assembler([{ name: 'f.bin', version: wrong, chunks: hashes, path }], () => undefined);
  assert.equal(await asm.write(hashes[0], chunks[0], true), false, 'the first chunk has its tag checked');
  // A chunk of the wrong size for its position is refused before any decryption.
  assert.equal(await asm.write(hashes[1], chunks[1].subarray(0, 1000), true), false);
  assert.equal(await asm.write(hashes[1], chunks[1]), false, 'unverified chunks are checked in full');
  assert.deepEqual(asm.completed(), []);
  await asm.abandon(true);
});

test('assembler: resuming from a partial file written directly keeps its verified blocks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-assembler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const content = bytes(6 * 65536 + 77, 9);
  const { version, chunks, hashes } = sealed(content, 65536);
  const path = join(dir, 'resumed.bin');
  const first = new Assembler([{ name: 'f.bin', version, chunks: hashes, path }], () => undefined);
  for (const i of [0, 2, 6]) assert.equal(await first.write(hashes[i], chunks[i]), true);
  await first.abandon();
  const second = new Assembler([{ name: 'f.bin', version, chunks: hashes, path }], () => undefined);
  assert.equal(await second.resume(), 3, 'blocks 0, 2 and the padded last block are found again');
  const left = second.hashes();
  assert.deepEqual(left, [1, 3, 4, 5].map((i) => hashes[i]));
  for (const h of left) assert.equal(await second.write(h, chunks[hashes.indexOf(h)]), true);
  assert.equal(Buffer.compare(readFileSync(path), content), 0);
});

test('assembler: a file system that refuses direct writes (EINVAL) gets the same file through the cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-assembler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const content = bytes(5 * 65536 + 300, 5);
  const { version, chunks, hashes } = sealed(content, 65536);
  const path = join(dir, 'einval.bin');
  const directFds = new Set<number>();
  let refused = 0;
  // Plays a file system that accepts O_DIRECT at open but refuses the writes, as some FUSE mounts do.
  const writeAt: WriteAt = (fd, data, offset, length, position) => {
    let flags = 0;
    try { flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8); } catch { /* not Linux */ }
    if ((flags & (O_DIRECT ?? 0)) !== 0) {
      directFds.add(fd);
      refused++;
      return Promise.reject(Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' }));
    }
    return Promise.resolve(writeSync(fd, data, offset, length, position));
  };
  const asm = new Assembler([{ name: 'f.bin', version, chunks: hashes, path }], () => undefined, writeAt);
  // Two chunks at once, as a transfer does: both direct writes fail, both blocks land.
  assert.deepEqual(await Promise.all([asm.write(hashes[1], chunks[1]), asm.write(hashes[3], chunks[3])]), [true, true]);
  for (const i of [0, 2, 4, 5]) assert.equal(await asm.write(hashes[i], chunks[i]), true);
  assert.equal(Buffer.compare(readFileSync(path), content), 0);
  if (directWorks(dir)) assert.ok(refused >= 1 && directFds.size === 1, `direct writes were tried once per fd, then the cache (${refused} refused)`);
  assert.equal(openFlags(path).length + openFlags(path + PART_SUFFIX).length, 0, 'every fd closed, the refused direct one too');
});
