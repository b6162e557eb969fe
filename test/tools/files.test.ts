// Unit tests of the files tool: chunk sealing, names and paths, the chunk protocol codec (fuzzed),
// the chunk store, the manifest (including what hostile members may write into it), and the
// fetcher against in-memory servers: corruption, disconnects, missing chunks, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { DecodeError, toHex } from '../../src/core/bytes.ts';
import type { ByteStream } from '../../src/core/byte-stream.ts';
import { TrellisError } from '../../src/core/errors.ts';
import { decryptVerifiedChunk, newFileKey, openChunk, sealChunk, sha256Hex } from '../../src/crypto/stream-seal.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import type { DocAccess } from '../../src/tools/doc-access.ts';
import {
  CHUNK_HEADER_BYTES, ChunkFrameType, decodeChunkFrame, encodeChunkFrame, fillChunkHeader, MAX_CHUNK_FRAME, type ChunkFrame,
} from '../../src/tools/files/chunk-frames.ts';
import { fetchChunks } from '../../src/tools/files/chunk-fetcher.ts';
import { serveChunks, type ChunkServerContext } from '../../src/tools/files/chunk-server.ts';
import { ChunkStore } from '../../src/tools/files/chunk-store.ts';
import { readChunkFrames } from '../../src/tools/files/frame-reader.ts';
import { CHUNKS_PER_ENTRY, chunksOf, filesDocId, readManifest, VERSIONS_MAP, writeVersion } from '../../src/tools/files/manifest.ts';
import { isCanonicalName, localPath, normalizeName } from '../../src/tools/files/paths.ts';
import { chunkSizeFor, sealFile } from '../../src/tools/files/seal-file.ts';

const MiB = 1024 * 1024;
import { barLine, formatBytes } from '../../src/cli/commands/files-progress.ts';

function tempDir(t: { after: (fn: () => void) => void }, name: string): string {
  const d = mkdtempSync(join(tmpdir(), `trellis-files-${name}-`));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Deterministic bytes (xorshift32), so failures reproduce. */
function prng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

test('chunks: sealed per position; key, index, count and every bit are checked', () => {
  const key = newFileKey();
  const plain = prng(1)(1000);
  const sealed = sealChunk(plain, key, 3, 5);
  assert.equal(sealed.byteLength, 1016);
  assert.deepEqual(openChunk(sealed, key, 3, 5), Buffer.from(plain));
  assert.equal(openChunk(sealed, key, 2, 5), null, 'moved to another position');
  assert.equal(openChunk(sealed, key, 3, 4), null, 'file cut short');
  assert.equal(openChunk(sealed, newFileKey(), 3, 5), null, 'other key');
  const bad = Buffer.from(sealed);
  bad[10] ^= 1;
  assert.equal(openChunk(bad, key, 3, 5), null, 'flipped bit');
  assert.throws(() => sealChunk(plain, key, 5, 5), /out of range/);
  // Same plaintext at another index: another ciphertext (nonces differ), so another address.
  assert.notEqual(sha256Hex(sealChunk(plain, key, 0, 5)), sha256Hex(sealChunk(plain, key, 1, 5)));
});

test('chunks: a chunk whose hash was checked decrypts without its tag to the same plaintext', () => {
  const key = newFileKey();
  const plain = prng(2)(256 * 1024);
  for (const index of [1, 4]) {
    const sealed = sealChunk(plain, key, index, 5);
    const out = new Uint8Array(plain.byteLength + 100);
    const got = decryptVerifiedChunk(sealed, key, index, 5, out);
    assert.equal(got.buffer, out.buffer, 'into the buffer given');
    assert.deepEqual(Buffer.from(got), Buffer.from(plain));
    // Without the tag check, the position and key still decide the keystream: anything else is not the plaintext.
    assert.notDeepEqual(Buffer.from(decryptVerifiedChunk(sealed, key, index + 1, 6)), Buffer.from(plain));
    assert.notDeepEqual(Buffer.from(decryptVerifiedChunk(sealed, newFileKey(), index, 5)), Buffer.from(plain));
  }
  assert.throws(() => decryptVerifiedChunk(new Uint8Array(8), key, 0, 1), /not a sealed chunk/);
  assert.throws(() => decryptVerifiedChunk(sealChunk(plain, key, 0, 1), key, 1, 1), /out of range/);
});

test('names: normalised from user input, canonical ones only from the network', () => {
  assert.equal(normalizeName('docs\\sub//./report.pdf/'), 'docs/sub/report.pdf');
  assert.equal(normalizeName('./a'), 'a');
  assert.equal(normalizeName('e\u0301t\u00e9'), '\u00e9t\u00e9', 'NFC');
  for (const bad of ['', '.', '/etc/passwd', '\\\\server\\x', 'C:\\x', 'c:x', 'a/../b', '..', 'a\u0000b', 'a\nb', 'x'.repeat(256), 'a/'.repeat(70) + 'b', 7, null]) {
    assert.throws(() => normalizeName(bad), (e: unknown) => e instanceof TrellisError && e.code === 'invalid', `refused: ${JSON.stringify(bad)}`);
  }
  for (const ok of ['a', 'a/b.txt', 'ü/ñ', 'with space/x']) assert.ok(isCanonicalName(ok), ok);
  for (const bad of ['a//b', 'a/', '/a', './a', 'a\\b', 'a/./b', 'e\u0301', '', 3]) assert.ok(!isCanonicalName(bad), `not canonical: ${JSON.stringify(bad)}`);
  assert.equal(localPath('/tmp/x/../y', 'path'), '/tmp/y');
  assert.throws(() => localPath('rel/x', 'path'), /relative/);
  assert.throws(() => localPath('/a\u0000', 'path'), /NUL/);
});

const H = (n: number) => new Uint8Array(32).fill(n);

test('protocol frames: every type round-trips; malformed ones are refused', () => {
  const frames: ChunkFrame[] = [
    { type: ChunkFrameType.hello, version: 1, workspace: new Uint8Array(16).fill(7) },
    { type: ChunkFrameType.ready },
    { type: ChunkFrameType.want, hashes: [H(1), H(2)] },
    { type: ChunkFrameType.chunk, hash: H(3), data: prng(2)(100) },
    { type: ChunkFrameType.missing, hash: H(4), reason: 1 },
    { type: ChunkFrameType.error, code: 'forbidden', message: 'not a member' },
  ];
  for (const f of frames) {
    const bytes = encodeChunkFrame(f);
    assert.equal(new DataView(bytes.buffer).getUint32(0), bytes.byteLength - 4);
    assert.deepEqual(decodeChunkFrame(bytes.subarray(4)), f);
  }
  // A CHUNK built in place equals the encoded one.
  const data = prng(3)(50);
  const inPlace = new Uint8Array(CHUNK_HEADER_BYTES + 50);
  inPlace.set(data, CHUNK_HEADER_BYTES);
  assert.deepEqual(fillChunkHeader(inPlace, H(9)), encodeChunkFrame({ type: ChunkFrameType.chunk, hash: H(9), data }));
  const refuse = (body: number[] | Uint8Array, why: RegExp) => assert.throws(() => decodeChunkFrame(Uint8Array.from(body)), (e: unknown) => e instanceof DecodeError && why.test(e.message));
  refuse([], /truncated/);
  refuse([99], /unknown frame type/);
  refuse([1, 1, ...new Uint8Array(15)], /truncated/);
  refuse([2, 0], /trailing/);
  refuse([3, 0, 0], /1 to 64/);
  refuse([3, 0, 65, ...new Uint8Array(65 * 32)], /1 to 64/);
  refuse([3, 0, 2, ...new Uint8Array(40)], /truncated/);
  refuse([4, ...new Uint8Array(32)], /empty chunk/);
  refuse([5, ...new Uint8Array(32), 2], /reason/);
  refuse([6, 0, 2, 0xff, 0xfe, 0, 0], /UTF-8/);
  refuse([6, 0, 100, ...new Uint8Array(100), 0, 0], /too long/);
});

test('protocol decoder: random and mutated input never crashes, only DecodeError', () => {
  const rnd = prng(42);
  const valid = [
    encodeChunkFrame({ type: ChunkFrameType.want, hashes: [H(1), H(2), H(3)] }),
    encodeChunkFrame({ type: ChunkFrameType.chunk, hash: H(3), data: prng(5)(300) }),
    encodeChunkFrame({ type: ChunkFrameType.error, code: 'x', message: 'yz' }),
    encodeChunkFrame({ type: ChunkFrameType.hello, version: 1, workspace: new Uint8Array(16) }),
  ].map((b) => b.subarray(4));
  for (let i = 0; i < 20_000; i++) {
    let body: Uint8Array;
    if (i % 2 === 0) {
      body = rnd(rnd(1)[0] % 80);
      if (body.byteLength > 0) body[0] = body[0] % 8;
    } else {
      body = Uint8Array.from(valid[i % valid.length]);
      const flips = 1 + (rnd(1)[0] % 4);
      for (let k = 0; k < flips; k++) body[rnd(2).reduce((a, b) => a * 256 + b) % body.byteLength] = rnd(1)[0];
      if (rnd(1)[0] < 40) body = body.subarray(0, rnd(1)[0] % body.byteLength);
    }
    try { decodeChunkFrame(body); } catch (e) { assert.ok(e instanceof DecodeError, `only DecodeError, got ${String(e)}`); }
  }
});

async function drain(stream: ByteStream): Promise<{ frames: ChunkFrame[]; error?: unknown }> {
  const frames: ChunkFrame[] = [];
  try { for await (const f of readChunkFrames(stream)) frames.push(f); } catch (error) { return { frames, error }; }
  return { frames };
}

test('frame reader: frames split anywhere; oversized, empty and truncated frames refused', async () => {
  const all = [
    encodeChunkFrame({ type: ChunkFrameType.ready }),
    encodeChunkFrame({ type: ChunkFrameType.chunk, hash: H(1), data: prng(7)(70_000) }),
    encodeChunkFrame({ type: ChunkFrameType.missing, hash: H(2), reason: 0 }),
  ];
  const joined = Buffer.concat(all);
  const rnd = prng(9);
  for (let round = 0; round < 20; round++) {
    const [a, b] = memoryPair();
    const reading = drain(b);
    for (let o = 0; o < joined.byteLength;) {
      const n = 1 + (rnd(2).reduce((x, y) => x * 256 + y) % 9000);
      await a.write(joined.subarray(o, o + n));
      o += n;
    }
    await a.close();
    const r = await reading;
    assert.equal(r.error, undefined);
    assert.deepEqual(r.frames.map((f) => f.type), [2, 4, 5]);
  }
  const feed = async (bytes: Uint8Array) => { const [a, b] = memoryPair(); const r = drain(b); await a.write(bytes); await a.close(); return r; };
  const big = new Uint8Array(4);
  new DataView(big.buffer).setUint32(0, MAX_CHUNK_FRAME + 1);
  assert.match(String((await feed(big)).error), /exceeds the limit/);
  assert.match(String((await feed(new Uint8Array(4))).error), /empty frame/);
  assert.match(String((await feed(all[1].subarray(0, 1000))).error), /ended inside a frame/);
  // Random streams: at worst a DecodeError.
  for (let i = 0; i < 300; i++) {
    const r = await feed(rnd(1 + (i % 200)));
    if (r.error !== undefined) assert.ok(r.error instanceof DecodeError, String(r.error));
  }
});

test('chunk store: write once under the hash, read with room for a header, temp files cleaned', async (t) => {
  const dir = tempDir(t, 'store');
  const store = new ChunkStore(dir);
  const data = prng(11)(5000);
  const h = sha256Hex(data);
  assert.equal(store.has(h), false);
  assert.equal(await store.read(h), undefined);
  await store.write(h, data);
  await store.write(h, data);
  await store.syncMany([h]);
  assert.equal(store.has(h), true);
  assert.ok(existsSync(join(dir, h.slice(0, 2), h)));
  assert.deepEqual(new Uint8Array(await store.read(h) as Uint8Array), data);
  const framed = (await store.read(h, 10))!;
  assert.equal(framed.byteLength, 5010);
  assert.deepEqual(new Uint8Array(framed.subarray(10)), data);
  assert.deepEqual(store.list(), [h]);
  assert.throws(() => store.path('../../etc/passwd'), /SHA-256/);
  writeFileSync(join(dir, 'tmp', 'leftover'), 'x');
  new ChunkStore(dir);
  assert.equal(existsSync(join(dir, 'tmp', 'leftover')), false);
});

test('sealFile: 256 KiB chunks, each decrypts at its position; an empty file has none', async (t) => {
  const dir = tempDir(t, 'seal');
  const store = new ChunkStore(join(dir, 'chunks'));
  const content = prng(12)(2 * 256 * 1024 + 10);
  writeFileSync(join(dir, 'f'), content);
  let progress = 0;
  const s = await sealFile(join(dir, 'f'), store, (n) => { progress += n; }, { sync: false });
  assert.equal(s.size, content.byteLength);
  assert.equal(progress, content.byteLength);
  assert.equal(s.chunks.length, 3);
  const key = Buffer.from(s.fileKey, 'hex');
  const parts = await Promise.all(s.chunks.map(async (h, i) => openChunk((await store.read(h))!, key, i, 3)!));
  assert.deepEqual(new Uint8Array(Buffer.concat(parts)), content);
  writeFileSync(join(dir, 'empty'), '');
  assert.deepEqual((await sealFile(join(dir, 'empty'), store, () => {}, { sync: false })).chunks, []);
});

test('sealFile: an add that fails half way leaves no chunk behind', async (t) => {
  const dir = tempDir(t, 'seal-fail');
  const store = new ChunkStore(join(dir, 'chunks'));
  writeFileSync(join(dir, 'f'), prng(13)(5 * 256 * 1024));
  const stop = new AbortController();
  let written = 0;
  await assert.rejects(sealFile(join(dir, 'f'), store, () => { if (++written === 2) stop.abort(); }, { sync: false, signal: stop.signal }), /cancelled/);
  assert.ok(written >= 2, 'some chunks were stored before the failure');
  assert.deepEqual(store.list(), []);
});

test('sealFile: big files get bigger chunks (about a thousand per file, up to 1 MiB)', async (t) => {
  assert.equal(chunkSizeFor(0), 256 * 1024);
  assert.equal(chunkSizeFor(256 * MiB), 256 * 1024);
  assert.equal(chunkSizeFor(256 * MiB + 1), 512 * 1024);
  assert.equal(chunkSizeFor(512 * MiB + 1), 1024 * 1024);
  assert.equal(chunkSizeFor(64 * 1024 * MiB), 1024 * 1024, 'never beyond 1 MiB');
  // A sparse file just over 256 MiB: add picks 512 KiB chunks by itself, and they open at their positions.
  const dir = tempDir(t, 'seal-big');
  const store = new ChunkStore(join(dir, 'chunks'));
  const path = join(dir, 'big');
  writeFileSync(path, '');
  truncateSync(path, 256 * MiB + 1);
  const s = await sealFile(path, store, () => {}, { sync: false });
  assert.equal(s.chunkSize, 512 * 1024);
  assert.equal(s.chunks.length, 513);
  const key = Buffer.from(s.fileKey, 'hex');
  assert.deepEqual(openChunk((await store.read(s.chunks[0]))!, key, 0, 513), Buffer.alloc(512 * 1024));
  assert.deepEqual(openChunk((await store.read(s.chunks[512]))!, key, 512, 513), Buffer.alloc(1));
});

/** Just enough DocAccess for the manifest: one participant, documents in memory. */
function fakeDocs(): DocAccess & { entries: number } {
  const docs = new Map<string, Y.Doc>();
  const doc = (ws: string, id: string) => { const k = `${ws}/${id}`; let d = docs.get(k); if (!d) { d = new Y.Doc(); docs.set(k, d); } return d; };
  const fake = {
    entries: 0,
    keyHex: 'aa'.repeat(32),
    resolveWorkspace: (ws: string) => ws,
    doc,
    changeDoc(ws: string, id: string, change: (d: Y.Doc) => void) {
      const d = doc(ws, id);
      let bytes = 0;
      const count = (u: Uint8Array) => { bytes += u.byteLength; };
      d.on('update', count);
      d.transact(() => change(d));
      d.off('update', count);
      assert.ok(bytes < 200 * 1024, `an entry stays well under 256 KiB (${bytes} bytes)`);
      fake.entries++;
    },
    role: () => 'participant' as const,
    memberList: () => [],
    history: () => [],
    docAt: () => new Y.Doc(),
    onDocChange: () => () => {},
  };
  return fake;
}

const WS = '0f'.repeat(16);
const hashOf = (i: number) => sha256Hex(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff));

test('manifest: versions by name, long chunk lists in several entries, order on every replica', () => {
  const docs = fakeDocs();
  const id = filesDocId(WS);
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.notEqual(id, filesDocId('1f'.repeat(16)));
  const n = CHUNKS_PER_ENTRY * 2 + 7;
  const chunks = Array.from({ length: n }, (_, i) => hashOf(i));
  const base = { chunkSize: 1024, fileKey: 'bb'.repeat(32), author: docs.keyHex };
  writeVersion(docs, WS, id, '01'.repeat(16), { ...base, name: 'big', version: 1, size: n * 1024 - 3, time: 5 }, chunks);
  assert.equal(docs.entries, 3);
  writeVersion(docs, WS, id, '02'.repeat(16), { ...base, name: 'big', version: 2, size: 1024, time: 4 }, [hashOf(1)]);
  // A concurrent "version 2" by someone else: ordered by time, then author, then id.
  writeVersion(docs, WS, id, '03'.repeat(16), { ...base, name: 'big', version: 2, size: 0, time: 3, deleted: true }, []);
  const view = readManifest(docs.doc(WS, id));
  assert.deepEqual(view.versions('big').map((v) => [v.id.slice(0, 2), v.version, v.deleted]), [['01', 1, false], ['03', 2, true], ['02', 3, false]]);
  assert.deepEqual(chunksOf(view.versions('big')[0]), chunks);
  assert.deepEqual(view.names(), ['big']);
  assert.throws(() => writeVersion(docs, WS, id, '04'.repeat(16), { ...base, name: 'x', version: 1, size: 5000, time: 1 }, [hashOf(1)]), /does not match/);
});

test('manifest: what a hostile member writes is ignored, not trusted', () => {
  const doc = new Y.Doc();
  const versions = doc.getMap<unknown>(VERSIONS_MAP);
  const good = { name: 'ok', version: 1, size: 10, chunkSize: 1024, chunkCount: 1, fileKey: 'cc'.repeat(32), author: 'dd'.repeat(32), time: 1 };
  const put = (id: string, fields: Record<string, unknown>, chunks: unknown[] | 'none' = [hashOf(1)]) => {
    const m = new Y.Map<unknown>();
    versions.set(id, m);
    for (const [k, v] of Object.entries(fields)) m.set(k, v);
    if (chunks !== 'none') { const a = new Y.Array<unknown>(); m.set('chunks', a); a.push(chunks); }
  };
  put('a0'.repeat(16), good);
  put('a1'.repeat(16), { ...good, name: '../../etc/passwd' });
  put('a2'.repeat(16), { ...good, name: '/abs' });
  put('a3'.repeat(16), { ...good, size: -1 });
  put('a4'.repeat(16), { ...good, size: 5000 }); // chunk count does not match the size
  put('a5'.repeat(16), { ...good, chunkSize: 64 * 1024 * 1024 });
  put('a6'.repeat(16), { ...good, fileKey: 'short' });
  put('a7'.repeat(16), { ...good, author: 42 });
  put('a8'.repeat(16), good, []); // incomplete list
  put('a9'.repeat(16), good, 'none');
  put('not-an-id', good);
  versions.set('aa'.repeat(16), { plain: 'object' });
  put('ab'.repeat(16), { ...good, name: 'odd' }, [42]); // a list of non-hashes: a version, but damaged
  const view = readManifest(doc);
  assert.deepEqual(view.names(), ['odd', 'ok']);
  assert.throws(() => chunksOf(view.latest('odd')!), /not a SHA-256/);
  assert.deepEqual(chunksOf(view.latest('ok')!), [hashOf(1)]);
});

// ---- fetcher against in-memory servers ----

interface FakeServer { key: string; peerId: string; store: ChunkStore; ctx: ChunkServerContext; served: number; opens: number }

async function server(dir: string, name: string, held: Map<string, Uint8Array>, opts: { member?: boolean; tamper?: boolean } = {}): Promise<FakeServer> {
  const store = new ChunkStore(join(dir, name));
  for (const [h, b] of held) await store.write(h, b);
  const s: FakeServer = {
    key: name.padEnd(64, '0').replace(/[^0-9a-f]/g, 'e'), peerId: name, store, served: 0, opens: 0,
    ctx: {
      store,
      hasWorkspace: () => true,
      isMember: () => opts.member ?? true,
      lists: () => true,
      log: () => {},
      served: () => { s.served++; },
      ...(opts.tamper ? { tamper: (_h: string, frame: Uint8Array) => { frame[frame.byteLength - 1] ^= 0x80; } } : {}),
    },
  };
  return s;
}

function chunkSet(n: number, seed: number): Map<string, Uint8Array> {
  const rnd = prng(seed);
  const m = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) { const b = rnd(3000 + i); m.set(sha256Hex(b), b); }
  return m;
}

function connect(servers: FakeServer[], opts: { delay?: Record<string, number>; cut?: (s: FakeServer, serverSide: ByteStream) => void } = {}) {
  return async (peerId: string): Promise<ByteStream> => {
    const s = servers.find((x) => x.peerId === peerId)!;
    s.opens++;
    await new Promise((r) => setTimeout(r, opts.delay?.[peerId] ?? 0));
    const [client, srv] = memoryPair(256 * 1024);
    opts.cut?.(s, srv);
    void serveChunks(srv, 'ff'.repeat(32), s.ctx);
    return client;
  };
}

test('fetcher: a corrupted chunk is detected, discarded, and fetched from another member', async (t) => {
  const dir = tempDir(t, 'fetch-corrupt');
  const chunks = chunkSet(12, 1);
  const bad = await server(dir, 'bad', chunks, { tamper: true });
  const good = await server(dir, 'good', chunks);
  const got = new Map<string, number>();
  const corruptFrom: string[] = [];
  const r = await fetchChunks([...chunks.keys()], {
    workspace: new Uint8Array(16),
    sources: () => [bad, good],
    // The bad member answers first, so it is asked for everything first.
    open: connect([bad, good], { delay: { good: 100 } }),
    accept: async (h, b) => { assert.deepEqual(new Uint8Array(b), chunks.get(h)); got.set(h, (got.get(h) ?? 0) + 1); },
    log: () => {},
    onCorrupt: (k) => corruptFrom.push(k),
  });
  assert.equal(r.fetched, 12);
  assert.equal(r.corrupt, 12);
  assert.ok(corruptFrom.every((k) => k === bad.key));
  assert.deepEqual([...got.values()], new Array(12).fill(1));
  assert.equal(good.served, 12, 'every chunk came from the good member');
});

test('fetcher: resumes after a disconnect without fetching finished chunks again', async (t) => {
  const dir = tempDir(t, 'fetch-cut');
  const chunks = chunkSet(30, 2);
  const s = await server(dir, 'only', chunks);
  const accepted: string[] = [];
  const r = await fetchChunks([...chunks.keys()], {
    workspace: new Uint8Array(16),
    sources: () => [s],
    open: connect([s], {
      // The first connection breaks after 10 chunks.
      cut: (srv, side) => { if (srv.opens === 1) { const served = srv.ctx.served; srv.ctx.served = (n) => { served(n); if (srv.served === 10) side.abort(new Error('cable pulled')); }; } else srv.ctx.served = () => { srv.served++; }; },
    }),
    accept: async (h) => { accepted.push(h); },
    log: () => {},
    window: 4,
  });
  assert.equal(r.fetched, 30);
  assert.equal(new Set(accepted).size, 30);
  assert.equal(accepted.length, 30, 'no chunk accepted twice');
  assert.ok(s.opens >= 2, 'a second stream was opened');
});

test('fetcher: 1 MiB chunks (a big file) come through with the window and buffers sized in bytes', async (t) => {
  const dir = tempDir(t, 'fetch-big');
  const rnd = prng(9);
  const chunks = new Map<string, Uint8Array>();
  for (let i = 0; i < 12; i++) { const b = rnd(MiB + 16 - (i === 11 ? 1000 : 0)); chunks.set(sha256Hex(b), b); }
  const s = await server(dir, 'big', chunks);
  const got = new Map<string, string>();
  const r = await fetchChunks([...chunks.keys()], {
    workspace: new Uint8Array(16), sources: () => [s], open: connect([s]), log: () => {}, chunkBytes: MiB + 16,
    // The frame buffer is reused once accept returns: what it held must be read by then.
    accept: async (h, sealed) => { got.set(h, sha256Hex(sealed)); },
  });
  assert.equal(r.fetched, 12);
  assert.equal(r.bytes, 12 * (MiB + 16) - 1000);
  for (const [h, d] of got) assert.equal(d, h);
});

test('fetcher: chunks nobody holds fail with "unavailable"; refusing servers stall out', async (t) => {
  const dir = tempDir(t, 'fetch-missing');
  const chunks = chunkSet(3, 3);
  const empty = await server(dir, 'empty', new Map());
  const started = Date.now();
  await assert.rejects(fetchChunks([...chunks.keys()], {
    workspace: new Uint8Array(16), sources: () => [empty], open: connect([empty]), accept: async () => {}, log: () => {}, missingMs: 300,
  }), (e: unknown) => e instanceof TrellisError && e.code === 'unavailable' && /held by none/.test(e.message));
  assert.ok(Date.now() - started < 3000);
  const stranger = await server(dir, 'stranger', chunks, { member: false });
  const logs: string[] = [];
  await assert.rejects(fetchChunks([...chunks.keys()], {
    workspace: new Uint8Array(16), sources: () => [stranger], open: connect([stranger]), accept: async () => {}, log: (l) => logs.push(l), stallMs: 500,
  }), /stalled/);
  assert.ok(logs.some((l) => /refuses chunk requests: forbidden/.test(l)));
});

test('server: refuses non-members with an ERROR frame, answers MISSING for chunks of other workspaces', async (t) => {
  const dir = tempDir(t, 'serve');
  const chunks = chunkSet(2, 4);
  const [h1, h2] = [...chunks.keys()];
  const s = await server(dir, 'srv', chunks, { member: false });
  const ask = async (ctx: ChunkServerContext, frames: Uint8Array[]) => {
    const [client, srv] = memoryPair();
    const served = serveChunks(srv, 'ee'.repeat(32), ctx);
    const reading = drain(client);
    for (const f of frames) await client.write(f);
    await client.close();
    await served;
    return (await reading).frames;
  };
  const hello = encodeChunkFrame({ type: ChunkFrameType.hello, version: 1, workspace: new Uint8Array(16) });
  const refused = await ask(s.ctx, [hello]);
  assert.deepEqual(refused.map((f) => f.type === ChunkFrameType.error && f.code), ['forbidden']);
  const member = { ...s.ctx, isMember: () => true, lists: (_ws: string, h: string) => h === h1 };
  const answers = await ask(member, [hello, encodeChunkFrame({ type: ChunkFrameType.want, hashes: [h1, h2, hashOf(5)].map((h) => Buffer.from(h, 'hex')) })]);
  assert.deepEqual(answers.map((f) => f.type), [ChunkFrameType.ready, ChunkFrameType.chunk, ChunkFrameType.missing, ChunkFrameType.missing]);
  assert.deepEqual(answers.slice(2).map((f) => f.type === ChunkFrameType.missing && f.reason), [1, 1]);
  const c = answers[1];
  assert.ok(c.type === ChunkFrameType.chunk && toHex(c.hash) === h1 && sha256Hex(c.data) === h1);
  // Anything but HELLO first, or a wrong version: ERROR and the stream closes.
  const wrong = await ask(member, [encodeChunkFrame({ type: ChunkFrameType.ready })]);
  assert.deepEqual(wrong.map((f) => f.type === ChunkFrameType.error && f.code), ['protocol']);
  const v2 = await ask(member, [encodeChunkFrame({ type: ChunkFrameType.hello, version: 2, workspace: new Uint8Array(16) })]);
  assert.deepEqual(v2.map((f) => f.type === ChunkFrameType.error && f.code), ['version']);
  const garbage = await ask(member, [Uint8Array.of(0, 0, 0, 2, 77, 1)]);
  assert.deepEqual(garbage.map((f) => f.type === ChunkFrameType.error && f.code), ['malformed']);
});

test('CLI progress bar: sizes and the bar line; names from members cannot drive the terminal', () => {
  assert.deepEqual([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(200 * 1024 * 1024), formatBytes(3 * 2 ** 40)], ['0 B', '1023 B', '1.50 KiB', '200.0 MiB', '3.00 TiB']);
  const line = barLine('getting', 'a\u001b[31mb', 50, 200, 2 * 1024 * 1024);
  assert.equal(line, 'getting [#######.....................]  25%  50 B / 200 B  2.00 MiB/s  a\uFFFD[31mb');
  assert.match(barLine('adding ', 'x', 0, 0, 0), /100%/);
});

test('fetch window: grows to cover a long path, stays small on a short one', async () => {
  const { Pipe } = await import('../../src/tools/files/chunk-fetcher.ts');
  const CHUNK = 256 * 1024;
  /** A member `rttMs` away delivering `mbps` MB/s; the requester keeps `pipe.window` chunks asked. Returns the window and the rate reached. */
  function simulate(rttMs: number, mbps: number, chunks: number): { window: number; rate: number } {
    let clock = 0;
    const pipe = new Pipe(8, 64, () => clock);
    const serviceMs = CHUNK / (mbps * 1000);
    const pending: number[] = []; // answer times
    let lastOut = 0;
    let done = 0;
    while (done < chunks) {
      while (pending.length < pipe.window) {
        pipe.asked();
        // The request travels half the round trip, the member sends one chunk at a time, the answer travels back.
        const out = Math.max(clock + rttMs / 2, lastOut) + serviceMs;
        lastOut = out;
        pending.push(out + rttMs / 2);
      }
      clock = pending.shift()!;
      pipe.answered(CHUNK);
      done++;
    }
    return { window: pipe.window, rate: (chunks * CHUNK) / (clock * 1000) };
  }
  const lan = simulate(0.2, 300, 2000);
  assert.equal(lan.window, 8, 'a short path needs no more than the minimum');
  assert.ok(lan.rate > 250, `and still runs at the member's speed (${lan.rate.toFixed(0)} MB/s)`);
  const wan = simulate(50, 100, 4000);
  // 100 MB/s x 50 ms = 5 MB = 20 chunks per round trip: the window must cover that, with room.
  assert.ok(wan.window >= 30, `a long path gets a window of about twice its round trip's worth (${wan.window})`);
  assert.ok(wan.rate > 80, `and fills it (${wan.rate.toFixed(0)} MB/s of 100)`);
  const far = simulate(200, 200, 4000);
  assert.equal(far.window, 64, 'never more than the maximum');
});
