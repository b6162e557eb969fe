// The files tool between Peers in one process (SQLite, real libp2p on loopback): add on one peer,
// get on another with the same SHA-256; versions, delete and restore; a corrupted chunk from a bad
// server is detected and fetched from another member; outsiders and guests are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import type { FileProgressEvent } from '../../src/peer-api.ts';
import { TrellisError } from '../../src/core/errors.ts';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode } from '../../src/net/libp2p-node.ts';
import { ChunkFrameType, CHUNKS_PROTOCOL, encodeChunkFrame } from '../../src/tools/files/chunk-frames.ts';
import { readChunkFrames } from '../../src/tools/files/frame-reader.ts';
import { waitFor } from '../helpers/replicas.ts';

interface Started { peer: Peer; home: string; logs: string[] }

async function startPeer(name: string, bootstrap: string[] = []): Promise<Started> {
  const home = mkdtempSync(join(tmpdir(), `trellis-files-${name}-`));
  createIdentity(home, name);
  const logs: string[] = [];
  const peer = await Peer.start({ home, mdns: false, bootstrap, log: (l) => logs.push(l) });
  return { peer, home, logs };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

async function group(t: { after: (fn: () => Promise<void>) => void }, names: string[], roles: ('participant' | 'guest')[]) {
  const a = await startPeer(names[0]);
  const others: Started[] = [];
  // Each new peer dials all earlier ones (peer exchange is not what this test is about).
  for (const n of names.slice(1)) others.push(await startPeer(n, [a, ...others].map((p) => p.peer.status().addrs[0])));
  const all = [a, ...others];
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-files-scratch-'));
  t.after(async () => {
    for (const p of all) await p.peer.stop();
    for (const p of all) rmSync(p.home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  const ws = await a.peer.createWorkspace('Files');
  for (let i = 0; i < others.length; i++) await others[i].peer.join(await a.peer.createInvite(ws.id, { role: roles[i] }));
  await waitFor(() => all.every((p) => p.peer.members(ws.id).length === all.length && p.peer.members(ws.id).every((m) => m.online)), 15_000, 'all members online everywhere');
  return { all, ws: ws.id, scratch };
}

test('add on A, get on B: identical bytes; versions, rm, restore, folders', { timeout: 60_000 }, async (t) => {
  const { all: [a, b], ws, scratch } = await group(t, ['alice', 'bob'], ['participant']);
  const src = join(scratch, 'report.bin');
  writeFileSync(src, randomBytes(3 * 256 * 1024 + 1234));
  const events: FileProgressEvent[] = [];
  b.peer.on((e) => { if (e.type === 'file-progress') events.push(e); });

  const added = await a.peer.files.add(ws, src, { as: 'docs/report.bin' });
  assert.deepEqual(added.added.map((x) => [x.name, x.version, x.chunks]), [['docs/report.bin', 1, 4]]);
  await waitFor(() => b.peer.files.list(ws).length === 1, 15_000, 'manifest at bob');
  const [info] = b.peer.files.list(ws);
  assert.equal(info.name, 'docs/report.bin');
  assert.equal(info.local, false);
  assert.equal(info.authorName, 'alice');

  const out = join(scratch, 'got.bin');
  const got = await b.peer.files.get(ws, 'docs/report.bin', out, { job: 'j1' });
  assert.equal(got.fetched, 4);
  assert.equal(got.local, 0);
  assert.equal(await sha256File(out), await sha256File(src));
  assert.equal(b.peer.files.list(ws)[0].local, false, 'on demand: the file was written, no chunk kept');
  assert.equal(a.peer.files.list(ws)[0].local, true, 'the author holds the chunks');
  const last = events.filter((e) => e.job === 'j1').at(-1)!;
  assert.deepEqual([last.op, last.done, last.total, last.workspace], ['get', info.size, info.size, ws]);

  // Existing destination: refused without force; a folder destination takes the base name.
  await assert.rejects(b.peer.files.get(ws, 'docs/report.bin', out), /exists already/);
  const intoDir = await b.peer.files.get(ws, 'docs/report.bin', scratch + '/', { force: true });
  assert.equal(intoDir.files[0].path, join(scratch, 'report.bin'));
  assert.equal(intoDir.fetched, 4, 'on demand, a get keeps no chunks: a second one fetches again');
  // The author's chunks are in its store.
  const own = await a.peer.files.get(ws, 'docs/report.bin', join(scratch, 'own.bin'));
  assert.deepEqual([own.local, own.fetched], [4, 0]);
  // An interrupted get resumes from its partial file: blocks that verify are not fetched again;
  // a damaged block is.
  const partial = join(scratch, 'partial.bin');
  const original = readFileSync(src);
  const damaged = Buffer.from(original.subarray(0, 3 * 256 * 1024));
  damaged[256 * 1024 + 5] ^= 1;
  writeFileSync(partial + '.trellis-part', damaged);
  const resumed = await b.peer.files.get(ws, 'docs/report.bin', partial);
  assert.deepEqual([resumed.resumed, resumed.local, resumed.fetched], [2, 2, 2]);
  assert.equal(await sha256File(partial), await sha256File(src));
  assert.equal(existsSync(partial + '.trellis-part'), false);

  // A new version keeps the old one; rm marks deleted; restore brings version 1 back.
  writeFileSync(src, 'version two');
  await a.peer.files.add(ws, src, { as: 'docs/report.bin' });
  await waitFor(() => b.peer.files.versions(ws, 'docs/report.bin').length === 2, 15_000, 'version 2 at bob');
  const v1 = join(scratch, 'v1.bin');
  await b.peer.files.get(ws, 'docs/report.bin', v1, { version: 1 });
  assert.equal(readFileSync(v1).byteLength, 3 * 256 * 1024 + 1234);
  const v2 = join(scratch, 'v2.bin');
  await b.peer.files.get(ws, 'docs/report.bin', v2);
  assert.equal(readFileSync(v2, 'utf8'), 'version two');

  assert.deepEqual(b.peer.files.rm(ws, 'docs/report.bin'), { removed: ['docs/report.bin'] });
  await waitFor(() => a.peer.files.list(ws).length === 0, 15_000, 'deletion at alice');
  assert.equal(a.peer.files.list(ws, { deleted: true })[0].deleted, true);
  await assert.rejects(a.peer.files.get(ws, 'docs/report.bin', join(scratch, 'x')), /was deleted/);
  const restored = a.peer.files.restore(ws, 'docs/report.bin', 1);
  assert.deepEqual([restored.version, restored.restoredFrom, restored.deleted], [4, 1, false]);
  await waitFor(() => b.peer.files.list(ws).length === 1, 15_000, 'restore at bob');
  assert.deepEqual(b.peer.files.versions(ws, 'docs/report.bin').map((v) => [v.version, v.deleted, v.restoredFrom ?? null]), [[1, false, null], [2, false, null], [3, true, null], [4, false, 1]]);
  const r = join(scratch, 'restored.bin');
  await b.peer.files.get(ws, 'docs/report.bin', r);
  assert.equal(await sha256File(r), await sha256File(v1));

  // Folders: added recursively, fetched as a tree; an empty file too.
  const dir = join(scratch, 'tree');
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'a.txt'), 'A');
  writeFileSync(join(dir, 'sub', 'b.txt'), 'B'.repeat(300_000));
  writeFileSync(join(dir, 'sub', 'deeper', 'empty'), '');
  const tree = await a.peer.files.add(ws, dir);
  assert.deepEqual(tree.added.map((x) => x.name), ['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deeper/empty']);
  await waitFor(() => b.peer.files.list(ws).length === 4, 15_000, 'tree at bob');
  const treeOut = join(scratch, 'tree-copy');
  const gotTree = await b.peer.files.get(ws, 'tree', treeOut);
  assert.equal(gotTree.files.length, 3);
  assert.equal(readFileSync(join(treeOut, 'sub', 'b.txt'), 'utf8'), 'B'.repeat(300_000));
  assert.equal(readFileSync(join(treeOut, 'sub', 'deeper', 'empty'), 'utf8'), '');
  assert.deepEqual(b.peer.files.rm(ws, 'tree').removed.length, 3);

  // Relative paths and climbing names are refused.
  await assert.rejects(a.peer.files.add(ws, 'relative/path'), /relative/);
  await assert.rejects(a.peer.files.add(ws, src, { as: '../escape' }), /"\.\."/);
  await assert.rejects(b.peer.files.get(ws, 'docs/report.bin', 'out.bin'), /relative/);
});

test('a file over 256 MiB travels in 512 KiB chunks (bigger than a yamux window) and arrives intact', { timeout: 120_000 }, async (t) => {
  const { all: [a, b], ws, scratch } = await group(t, ['alice', 'bob'], ['participant']);
  // Sparse, with random bytes at the start, across a chunk boundary and in the last (short) chunk.
  const src = join(scratch, 'big.bin');
  const size = 256 * 1024 * 1024 + 4321;
  const fd = openSync(src, 'w');
  try {
    for (const at of [0, 3 * 512 * 1024 - 700, size - 2000]) writeSync(fd, randomBytes(2000), 0, 2000, at);
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
  const added = await a.peer.files.add(ws, src, { as: 'big.bin' });
  assert.deepEqual(added.added.map((x) => [x.name, x.chunks]), [['big.bin', 513]]);
  await waitFor(() => b.peer.files.list(ws).length === 1, 15_000, 'manifest at bob');
  const out = join(scratch, 'big-copy.bin');
  const got = await b.peer.files.get(ws, 'big.bin', out);
  assert.deepEqual([got.fetched, got.local], [513, 0]);
  assert.equal(await sha256File(out), await sha256File(src));
});

test('a corrupted chunk from a bad server is detected and fetched from another member', { timeout: 60_000 }, async (t) => {
  const { all: [a, b, c], ws, scratch } = await group(t, ['alice', 'bob', 'carol'], ['participant', 'participant']);
  const src = join(scratch, 'big.bin');
  // 40 chunks: more than one request window, so both members get asked.
  writeFileSync(src, randomBytes(40 * 256 * 1024));
  await a.peer.files.add(ws, src);
  await waitFor(() => b.peer.files.list(ws).length === 1, 15_000, 'manifest at bob');
  // Bob keeps all chunks (and so serves them too).
  b.peer.files.setPolicy(ws, 'keep-all');
  await waitFor(() => b.peer.files.list(ws)[0]?.local === true, 20_000, 'bob holds every chunk');
  await waitFor(() => c.peer.files.list(ws).length === 1, 15_000, 'manifest at carol');
  // Alice now serves every chunk with one bit flipped; bob serves them intact.
  let tampered = 0;
  a.peer.files.hooks.tamper = (_h, frame) => { frame[frame.byteLength - 1] ^= 1; tampered++; };
  const got = await c.peer.files.get(ws, 'big.bin', join(scratch, 'c.bin'));
  assert.equal(await sha256File(join(scratch, 'c.bin')), await sha256File(src));
  assert.equal(got.fetched, 40);
  assert.equal(got.corrupt, tampered, 'every corrupted chunk was detected');
  assert.ok(tampered > 0, 'alice served at least one chunk (both members were asked)');
  assert.equal(c.peer.files.stats().chunksCorrupt, tampered);
  assert.ok(c.logs.some((l) => /failed its SHA-256 check/.test(l)));
});

test('guests get but cannot add; keep-all fetches in the background; a stranger is refused', { timeout: 60_000 }, async (t) => {
  const { all: [a, g], ws, scratch } = await group(t, ['alice', 'guest'], ['guest']);
  const src = join(scratch, 'f.txt');
  writeFileSync(src, 'shared');
  await a.peer.files.add(ws, src);
  await assert.rejects(g.peer.files.add(ws, src), (e: unknown) => e instanceof TrellisError && e.code === 'forbidden' && /can get files but not add/.test(e.message));
  assert.throws(() => g.peer.files.rm(ws, 'f.txt'), (e: unknown) => e instanceof TrellisError && e.code === 'forbidden');
  await waitFor(() => g.peer.files.list(ws).length === 1, 15_000, 'manifest at the guest');
  await g.peer.files.get(ws, 'f.txt', join(scratch, 'g.txt'));
  assert.equal(readFileSync(join(scratch, 'g.txt'), 'utf8'), 'shared');

  // keep-all: new versions' chunks arrive without a get.
  assert.equal(g.peer.files.setPolicy(ws, 'keep-all'), 'keep-all');
  writeFileSync(src, randomBytes(5 * 256 * 1024));
  await a.peer.files.add(ws, src, { as: 'big.bin' });
  await waitFor(() => g.peer.files.list(ws).some((f) => f.name === 'big.bin' && f.local), 20_000, 'keep-all fetched big.bin');
  assert.equal(g.peer.files.policy(ws), 'keep-all');

  // A peer that is no member gets ERROR forbidden, and no chunk.
  const stranger = await createNetNode({ signingSecretKey: signingKeyPair().secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  t.after(() => stranger.stop());
  const { stream } = await stranger.openStream(a.peer.status().addrs[0], CHUNKS_PROTOCOL);
  const frames = readChunkFrames(stream);
  await stream.write(encodeChunkFrame({ type: ChunkFrameType.hello, version: 1, workspace: Buffer.from(ws, 'hex') }));
  const first = await frames.next();
  assert.ok(!first.done && first.value.type === ChunkFrameType.error && first.value.code === 'forbidden', JSON.stringify(first.value));
  assert.equal(a.peer.files.stats().chunksServed > 0, true, 'alice served the members');
  assert.ok(a.logs.some((l) => /refused a chunk request from .*forbidden/.test(l)));
});
