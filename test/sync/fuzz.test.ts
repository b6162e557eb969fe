// Fuzz: 100,000+ random and mutated frames through the frame decoder and a replica's ingest, and
// thousands through live sync sessions. Every input must end in a clean DecodeError/refusal or be
// handled; nothing else may be thrown, nothing may hang, and the honest replica stays intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { randomBytes } from '../../src/crypto/sodium.ts';
import { decodeFrame, encodeFrame, FrameType } from '../../src/sync/frames.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SyncSession } from '../../src/sync/session.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { connect, founder, member, waitFor } from '../helpers/replicas.ts';
import { toHex } from '../../src/core/bytes.ts';

/** Deterministic PRNG (xorshift32) so a failure replays. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x1_0000_0000; };
}

function mutate(frame: Uint8Array, rnd: () => number): Uint8Array {
  const out = frame.slice();
  const kind = Math.floor(rnd() * 5);
  if (kind === 0) { for (let i = 0; i < 1 + rnd() * 4; i++) out[Math.floor(rnd() * out.length)] ^= 1 << Math.floor(rnd() * 8); return out; }
  if (kind === 1) return out.subarray(0, Math.floor(rnd() * out.length));
  if (kind === 2) { const extra = randomBytes(1 + Math.floor(rnd() * 16)); const r = new Uint8Array(out.length + extra.length); r.set(out); r.set(extra, out.length); return r; }
  if (kind === 3) { out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256); return out; }
  // Overwrite a 4-byte field with an extreme length.
  const at = Math.floor(rnd() * Math.max(1, out.length - 4));
  new DataView(out.buffer, out.byteOffset).setUint32(at, [0, 1, 0xffff, 0x7fffffff, 0xffffffff][Math.floor(rnd() * 5)]);
  return out;
}

async function corpus() {
  const a = founder('alice');
  const b = member(a, 'bob');
  for (let i = 0; i < 20; i++) a.ws.append(EntryKind.chat, encodeChat(`seed ${i}`));
  const l = connect(b, a);
  await l.initiator.remoteSynced;
  l.close();
  const entries = [...a.store.allEntries(a.ws.id)];
  const frames = [
    encodeFrame({ type: FrameType.hello, version: 1, workspace: a.ws.id }),
    encodeFrame({ type: FrameType.vector, heads: [...a.ws.vector().values()] }),
    encodeFrame({ type: FrameType.entries, entries: entries.slice(0, 8) }),
    encodeFrame({ type: FrameType.entries, entries: entries.slice(8) }),
    encodeFrame({ type: FrameType.synced }),
    encodeFrame({ type: FrameType.peers, peers: [{ key: a.signing.publicKey, addrs: ['/ip4/127.0.0.1/tcp/1'] }] }),
    encodeFrame({ type: FrameType.error, code: 'x', message: 'y' }),
    encodeFrame({ type: FrameType.joinRequest, body: { workspace: toHex(a.ws.id) } }),
  ];
  return { a, b, frames };
}

test('100,000 random and mutated frames through the decoder and ingest: only clean refusals', async () => {
  const { a, b, frames } = await corpus();
  const before = a.chat.log(a.ws.idHex).map((m) => m.id);
  const rnd = prng(20261125);
  let decoded = 0, refused = 0, ingested = 0;
  for (let i = 0; i < 100_000; i++) {
    const input = i % 4 === 0 ? randomBytes(Math.floor(rnd() * 300)) : mutate(frames[Math.floor(rnd() * frames.length)], rnd);
    const body = input.subarray(4); // frames carry a length prefix; the decoder sees the body
    try {
      const f = decodeFrame(body);
      decoded++;
      if (f.type === FrameType.entries) {
        // Feed what decoded into the honest replica, as a session would.
        try { a.ws.ingest(f.entries, b.signing.publicKey); ingested++; } catch (err) { assert.ok(err instanceof DecodeError, `ingest threw ${String(err)}`); refused++; }
      }
    } catch (err) {
      assert.ok(err instanceof DecodeError, `decoder threw ${String(err)}`);
      refused++;
    }
  }
  assert.ok(refused > 50_000, `refused ${refused}`);
  assert.ok(decoded > 1000 && ingested > 100, `decoded ${decoded}, ingested ${ingested}`);
  assert.deepEqual(a.chat.log(a.ws.idHex).map((m) => m.id), before, 'no mutated entry took effect');
});

test('2,000 mutated frames through live sync sessions: each ends cleanly, the replica still syncs', { timeout: 120_000 }, async () => {
  const { a, b, frames } = await corpus();
  const before = a.chat.log(a.ws.idHex).map((m) => m.id);
  const rnd = prng(7);
  let ended = 0;
  for (let i = 0; i < 2000; i++) {
    const [mine, theirs] = memoryPair();
    const session = new SyncSession(theirs, { remoteKey: b.signing.publicKey, log: () => {} });
    const done = session.accept(() => a.ws).then(() => 'ok', (e: Error) => e.name);
    await mine.write(frames[0]);
    for (let k = 0; k < 3; k++) await mine.write(mutate(frames[1 + Math.floor(rnd() * (frames.length - 1))], rnd)).catch(() => {});
    await mine.close();
    const result = await Promise.race([done, new Promise((r) => setTimeout(() => r('hang'), 2000))]);
    assert.notEqual(result, 'hang', `session ${i} hung`);
    ended++;
  }
  assert.equal(ended, 2000);
  assert.deepEqual(a.chat.log(a.ws.idHex).map((m) => m.id), before);
  b.ws.append(EntryKind.chat, encodeChat('after the fuzz'));
  const l = connect(b, a);
  await waitFor(() => a.chat.log(a.ws.idHex).some((m) => m.text === 'after the fuzz'), 3000, 'sync after fuzz');
  l.close();
});
