// A relay's file chunks over in-memory pairs, with the real relay service, replicas and chunk
// files on disk: members push (asking first what the relay holds) and fetch; non-members, removed
// members, chunks under a wrong hash, oversized frames and pushes beyond the quota are refused,
// and nothing already stored is lost. Chunks survive a restart and go with a detachment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecodeError, toHex } from '../../src/core/bytes.ts';
import type { ByteStream } from '../../src/core/byte-stream.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SessionError, SyncSession } from '../../src/sync/session.ts';
import { RelayChunks, entryReserve } from '../../src/relay/relay-chunks.ts';
import { RelayService } from '../../src/relay/relay-service.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { fetchChunks } from '../../src/tools/files/chunk-fetcher.ts';
import { ChunkFrameType, decodeChunkFrame, encodeChunkFrame, type ChunkFrame } from '../../src/tools/files/chunk-frames.ts';
import { PushRefused, pushChunks } from '../../src/tools/files/chunk-pusher.ts';
import { mountTmpfs, tmpfsMountsWork, unmount } from '../helpers/tmpfs.ts';
import { readChunkFrames } from '../../src/tools/files/frame-reader.ts';
import { newEpoch } from '../../src/workspace/control-builders.ts';
import { founder, member, outsider, waitFor, type TestReplica } from '../helpers/replicas.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function chunkSet(n: number, size: number): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) { const b = new Uint8Array(randomBytes(size + i)); m.set(sha(b), b); }
  return m;
}

function relay(t: { after: (fn: () => void) => void }, opts: { quota?: number; dir?: string } = {}) {
  const key = signingKeyPair();
  const hex = toHex(key.publicKey);
  const store = new MemoryStore();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'trellis-relay-chunks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logs: string[] = [];
  const verified = new Set<string>();
  const marks = { isVerified: (ws: string) => verified.has(ws), markVerified: (ws: string) => { verified.add(ws); }, forgetVerified: (ws: string) => { verified.delete(ws); } };
  const log = (l: string) => { logs.push(l); };
  const parts: { service?: RelayService } = {};
  const chunks = new RelayChunks({ dir, replica: (ws) => parts.service?.replica(ws), log });
  const service = new RelayService({ store, marks, selfKeyHex: hex, quota: opts.quota ?? 1 << 30, log, chunks });
  parts.service = service;
  return { key, hex, store, service, chunks, dir, logs };
}
type Rel = ReturnType<typeof relay>;

function sync(r: TestReplica, rel: Rel) {
  const [a, b] = memoryPair();
  const session = new SyncSession(a, { remoteKey: rel.key.publicKey, log: (l) => r.logs.push(l) });
  const ended = session.initiate(r.ws).then(() => undefined, (err: Error) => err);
  rel.service.accept(b, r.signing.publicKey);
  return { session, ended };
}

/** Alice's workspace with the relay attached and served, Bob a member. */
async function attached(t: { after: (fn: () => void) => void }, opts: { quota?: number; dir?: string } = {}) {
  const rel = relay(t, opts);
  const a = founder('alice');
  const b = member(a, 'bob');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  const link = sync(a, rel);
  await link.session.remoteSynced;
  await waitFor(() => rel.service.served().length === 1 && rel.service.replica(a.ws.idHex)?.isMember(toHex(b.signing.publicKey)) === true, 5000, 'served');
  return { rel, a, b, link };
}

function push(rel: Rel, who: TestReplica, hashes: string[], held: Map<string, Uint8Array>, window?: number) {
  return pushChunks(hashes, {
    workspace: who.ws.id,
    open: async () => { const [mine, theirs] = memoryPair(); rel.chunks.acceptPush(theirs, { publicKey: who.signing.publicKey }); return mine; },
    read: (h, reserve) => {
      const d = held.get(h);
      if (!d) return undefined;
      const out = new Uint8Array(reserve + d.byteLength);
      out.set(d, reserve);
      return out;
    },
    ...(window ? { window } : {}),
  });
}

/** Sends raw frames on a push (or fetch) stream and collects every answer until the relay closes. */
async function raw(open: (s: ByteStream) => void, frames: Uint8Array[]): Promise<ChunkFrame[]> {
  const [mine, theirs] = memoryPair();
  open(theirs);
  const answers: ChunkFrame[] = [];
  const reading = (async () => { try { for await (const f of readChunkFrames(mine)) answers.push(f); } catch { /* closed */ } })();
  for (const f of frames) await mine.write(f).catch(() => undefined);
  await mine.close().catch(() => undefined);
  await reading;
  return answers;
}

/** Chunk files on the relay's disk for a workspace: name → bytes. */
function onDisk(rel: Rel, ws: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const root = join(rel.dir, ws);
  if (!existsSync(root)) return out;
  for (const sub of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const f of readdirSync(join(root, sub))) out.set(f, readFileSync(join(root, sub, f)));
  }
  return out;
}

test('a member pushes chunks (only what the relay lacks); another member fetches them from the relay', async (t) => {
  const { rel, a, b, link } = await attached(t);
  const chunks = chunkSet(20, 100_000);
  const hashes = [...chunks.keys()];
  // First half, then everything: the second push sends only the second half.
  const first = await push(rel, a, hashes.slice(0, 10), chunks);
  assert.deepEqual([first.held, first.pushed, first.skipped], [0, 10, 0]);
  const second = await push(rel, a, hashes, chunks, 3);
  assert.deepEqual([second.held, second.pushed], [10, 10], 'the relay was asked first; held chunks were not sent again');
  const served = rel.service.served()[0];
  assert.equal(served.chunks, 20);
  assert.equal(served.chunkBytes, [...chunks.values()].reduce((n, c) => n + c.byteLength, 0));
  assert.ok(served.bytesHeld > served.chunkBytes, 'bytes held count entries and chunks');
  // On disk under their hashes, byte for byte.
  const disk = onDisk(rel, a.ws.idHex);
  assert.equal(disk.size, 20);
  for (const [name, bytes] of disk) assert.equal(sha(bytes), name);

  // Bob, never online with Alice, fetches them all from the relay.
  const got = new Map<string, Uint8Array>();
  const r = await fetchChunks(hashes, {
    workspace: b.ws.id,
    sources: () => [{ key: rel.hex, peerId: 'relay' }],
    open: async () => { const [mine, theirs] = memoryPair(); rel.chunks.serve(theirs, { publicKey: b.signing.publicKey }); return mine; },
    accept: async (h, data) => { got.set(h, new Uint8Array(data)); },
    log: () => {},
  });
  assert.equal(r.fetched, 20);
  for (const [h, data] of chunks) assert.deepEqual(got.get(h), data);
  assert.equal(rel.chunks.stats().chunksServed, 20);
  // A chunk the relay does not hold: MISSING (not held), not an error.
  const missing = await raw((s) => rel.chunks.serve(s, { publicKey: b.signing.publicKey }), [
    encodeChunkFrame({ type: ChunkFrameType.hello, version: 1, workspace: b.ws.id }),
    encodeChunkFrame({ type: ChunkFrameType.want, hashes: [Buffer.from(sha(Buffer.from('nope')), 'hex')] }),
  ]);
  assert.deepEqual(missing.map((f) => [f.type, f.type === ChunkFrameType.missing ? f.reason : null]), [[ChunkFrameType.ready, null], [ChunkFrameType.missing, 0]]);
  link.session.close();
});

test('non-members and removed members can neither push nor fetch; nothing of theirs is stored', async (t) => {
  const { rel, a, b, link } = await attached(t);
  const chunks = chunkSet(3, 5000);
  const hashes = [...chunks.keys()];
  const mallory = outsider(a, a.key);
  await assert.rejects(push(rel, mallory, hashes, chunks), (e: unknown) => e instanceof PushRefused && e.code === 'forbidden' && /not a member/.test(e.message));
  const fetch = await raw((s) => rel.chunks.serve(s, { publicKey: mallory.signing.publicKey }), [
    encodeChunkFrame({ type: ChunkFrameType.hello, version: 1, workspace: a.ws.id }),
  ]);
  assert.deepEqual(fetch.map((f) => f.type === ChunkFrameType.error && f.code), ['forbidden']);
  // A workspace the relay does not serve: not-found, whoever asks.
  const other = founder('eve');
  await assert.rejects(push(rel, other, hashes, chunks), (e: unknown) => e instanceof PushRefused && e.code === 'not-found');
  assert.equal(rel.service.served()[0].chunks, 0);
  assert.equal(onDisk(rel, a.ws.idHex).size, 0);
  assert.ok(!existsSync(join(rel.dir, other.ws.idHex)));

  // Bob may push while a member; once removed (the relay has the removal), no more.
  assert.equal((await push(rel, b, hashes.slice(0, 1), chunks)).pushed, 1);
  const { epoch, keys } = newEpoch(a.ws, toHex(b.signing.publicKey));
  a.ws.appendControl({ type: 'remove', key: toHex(b.signing.publicKey), epoch, keys });
  await waitFor(() => rel.service.replica(a.ws.idHex)?.isMember(toHex(b.signing.publicKey)) === false, 5000, 'the relay saw the removal');
  await assert.rejects(push(rel, b, hashes, chunks), (e: unknown) => e instanceof PushRefused && e.code === 'forbidden');
  assert.equal(rel.service.served()[0].chunks, 1);
  link.session.close();
});

test('a chunk under a wrong hash, an oversized frame or a stray frame is refused and not stored', async (t) => {
  const { rel, a, link } = await attached(t);
  const hello = encodeChunkFrame({ type: ChunkFrameType.hello, version: 1, workspace: a.ws.id });
  const data = new Uint8Array(randomBytes(4000));
  const wrong = sha(Buffer.from('something else'));
  const answers = await raw((s) => rel.chunks.acceptPush(s, { publicKey: a.signing.publicKey }), [
    hello, encodeChunkFrame({ type: ChunkFrameType.put, hash: Buffer.from(wrong, 'hex'), data }),
  ]);
  assert.deepEqual(answers.map((f) => f.type), [ChunkFrameType.ready, ChunkFrameType.error]);
  const err = answers[1];
  assert.ok(err.type === ChunkFrameType.error && err.code === 'invalid' && /does not match the SHA-256/.test(err.message));
  assert.equal(rel.chunks.has(a.ws.idHex, wrong), false);
  assert.equal(onDisk(rel, a.ws.idHex).size, 0);
  // A frame announcing more than a chunk frame may hold is refused before it is buffered.
  const huge = new Uint8Array(8);
  new DataView(huge.buffer).setUint32(0, 2 * 1024 * 1024);
  huge[4] = ChunkFrameType.put;
  const tooBig = await raw((s) => rel.chunks.acceptPush(s, { publicKey: a.signing.publicKey }), [hello, huge]);
  assert.deepEqual(tooBig.map((f) => f.type === ChunkFrameType.error ? f.code : f.type), [ChunkFrameType.ready, 'malformed']);
  // WANT is for fetching: on the push protocol it is a protocol error.
  const stray = await raw((s) => rel.chunks.acceptPush(s, { publicKey: a.signing.publicKey }), [hello, encodeChunkFrame({ type: ChunkFrameType.want, hashes: [Buffer.alloc(32)] })]);
  assert.deepEqual(stray.map((f) => f.type === ChunkFrameType.error ? f.code : f.type), [ChunkFrameType.ready, 'protocol']);
  // The right hash goes in.
  const ok = await raw((s) => rel.chunks.acceptPush(s, { publicKey: a.signing.publicKey }), [hello, encodeChunkFrame({ type: ChunkFrameType.put, hash: Buffer.from(sha(data), 'hex'), data })]);
  assert.deepEqual(ok.map((f) => f.type), [ChunkFrameType.ready, ChunkFrameType.stored]);
  assert.equal(rel.chunks.has(a.ws.idHex, sha(data)), true);
  link.session.close();
});

test('chunks count against the quota: beyond it the push is refused clearly, nothing stored is lost, entries keep their reserve', async (t) => {
  const quota = 2 * 1024 * 1024;
  const { rel, a, link } = await attached(t, { quota });
  const chunks = chunkSet(10, 256 * 1024);
  const hashes = [...chunks.keys()];
  const refused = await push(rel, a, hashes, chunks).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof PushRefused && refused.code === 'quota', String(refused));
  assert.match(refused.message, /over quota: this relay holds \d+ bytes .* its quota is 2097152 bytes, of which file chunks may use \d+; nothing already stored is lost/);
  const full = rel.service.served()[0];
  assert.ok(full.chunks >= 5 && full.chunks < 10, `some chunks fitted: ${full.chunks}`);
  assert.ok(full.bytesHeld <= quota - entryReserve(quota), `within the chunks' share: ${full.bytesHeld}`);
  assert.equal(onDisk(rel, a.ws.idHex).size, full.chunks);
  // Trying again stores nothing more and loses nothing.
  await assert.rejects(push(rel, a, hashes, chunks), (e: unknown) => e instanceof PushRefused && e.code === 'quota');
  assert.equal(rel.service.served()[0].chunks, full.chunks);
  // Messages still get in: chunks left the entries their reserve.
  for (let i = 0; i < 20; i++) a.ws.append(EntryKind.chat, encodeChat(`after the files ${i}`));
  await waitFor(() => rel.service.served()[0].entries === full.entries + 20, 5000, 'messages at the relay');
  // And the entries' quota counts the chunks: filling the reserve ends the session with `quota`.
  for (let i = 0; i < 600; i++) a.ws.append(EntryKind.chat, encodeChat('z'.repeat(500)));
  const err = await link.ended;
  assert.ok(err instanceof SessionError && err.code === 'quota', String(err));
  const last = rel.service.served()[0];
  assert.ok(last.bytesHeld <= quota, `entries and chunks within the quota: ${last.bytesHeld}`);
});

test('a relay whose disk is full refuses pushes as over quota (members wait before trying again), and keeps what it stored', { skip: tmpfsMountsWork() ? false : 'needs root and tmpfs mounts' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-relay-full-'));
  assert.ok(mountTmpfs(dir, '1m'));
  t.after(() => { unmount(dir); rmSync(dir, { recursive: true, force: true }); });
  const { rel, a } = await attached(t, { dir });
  const chunks = chunkSet(8, 256 * 1024);
  const hashes = [...chunks.keys()];
  const refused = await push(rel, a, hashes, chunks).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof PushRefused && refused.code === 'quota', String(refused));
  assert.equal(refused.message, 'the relay\'s disk is full');
  const held = rel.service.served()[0].chunks;
  assert.ok(held >= 1 && held < 8, `what fitted was stored: ${held}`);
  assert.equal(onDisk(rel, a.ws.idHex).size, held);
});

test('chunks survive a restart of the relay and are dropped with a detachment', async (t) => {
  const { rel, a, link } = await attached(t);
  const chunks = chunkSet(4, 20_000);
  await push(rel, a, [...chunks.keys()], chunks);
  const before = rel.service.served()[0];
  // A new RelayChunks on the same folder (the relay restarted) counts the same.
  const again = new RelayChunks({ dir: rel.dir, replica: (ws) => rel.service.replica(ws), log: () => {} });
  again.load([a.ws.idHex]);
  assert.deepEqual([again.count(a.ws.idHex), again.bytes(a.ws.idHex)], [before.chunks, before.chunkBytes]);
  for (const h of chunks.keys()) assert.equal(again.has(a.ws.idHex, h), true);

  // Detached: the workspace's chunks go with its entries.
  a.ws.appendControl({ type: 'unrelay', key: rel.hex });
  const err = await link.ended;
  assert.equal((err as SessionError).code, 'not-found');
  await waitFor(() => !existsSync(join(rel.dir, a.ws.idHex)), 5000, 'chunks dropped');
  assert.equal(rel.chunks.count(a.ws.idHex), 0);
  // A restart that finds chunks of a workspace it does not serve (a drop cut short) removes them.
  const stale = join(rel.dir, 'ab'.repeat(16), 'cd');
  mkdirSync(stale, { recursive: true });
  writeFileSync(join(stale, 'cd'.repeat(32)), 'sealed bytes');
  const restarted = new RelayChunks({ dir: rel.dir, replica: () => undefined, log: () => {} });
  restarted.load([]);
  assert.deepEqual(readdirSync(rel.dir), []);
});

test('push frames: HAVE, HELD, PUT and STORED round-trip; malformed ones are refused', () => {
  const h = (n: number) => new Uint8Array(32).fill(n);
  const plain = (f: ChunkFrame) => JSON.stringify(f, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
  const frames: ChunkFrame[] = [
    { type: ChunkFrameType.have, hashes: [h(1), h(2)] },
    { type: ChunkFrameType.held, flags: [true, false, true] },
    { type: ChunkFrameType.put, hash: h(3), data: new Uint8Array([1, 2, 3]) },
    { type: ChunkFrameType.stored, hash: h(4) },
  ];
  for (const f of frames) {
    const bytes = encodeChunkFrame(f);
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), bytes.byteLength - 4);
    const back = decodeChunkFrame(bytes.subarray(4));
    assert.equal(plain(back), plain(f));
  }
  const body = (type: number, ...rest: number[]) => Uint8Array.from([type, ...rest]);
  assert.throws(() => decodeChunkFrame(body(ChunkFrameType.held, 0, 2, 1, 2)), DecodeError, 'a flag is 0 or 1');
  assert.throws(() => decodeChunkFrame(body(ChunkFrameType.held, 0, 0)), DecodeError, 'at least one flag');
  assert.throws(() => decodeChunkFrame(body(ChunkFrameType.have, 0, 65, ...new Array(65 * 32).fill(0))), DecodeError, 'at most 64 hashes');
  assert.throws(() => decodeChunkFrame(body(ChunkFrameType.stored, 1, 2, 3)), DecodeError, 'a truncated hash');
  assert.throws(() => decodeChunkFrame(Uint8Array.from([ChunkFrameType.put, ...new Array(32).fill(0)])), DecodeError, 'an empty chunk');
  assert.throws(() => encodeChunkFrame({ type: ChunkFrameType.have, hashes: [] }), /1 to 64/);
});
