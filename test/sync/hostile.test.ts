// Hostile input against an honest replica, through a real sync session over an in-memory pair:
// each bad entry or frame is rejected and logged, and the honest replica's state is unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { decodeEntry, EntryKind, ZERO_HASH } from '../../src/core/entry.ts';
import { entryHash, sealEntry } from '../../src/crypto/entry-seal.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { encodeFrame, FrameType, type Frame } from '../../src/sync/frames.ts';
import { FrameStream } from '../../src/sync/frame-stream.ts';
import { SyncSession } from '../../src/sync/session.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { connect, founder, member, outsider, preparer, waitFor, type TestReplica } from '../helpers/replicas.ts';

/** An honest replica `a` with members b (participant) and g (guest), all synced. */
async function setup() {
  const a = founder('alice');
  const b = member(a, 'bob');
  const g = member(a, 'gina', 'guest');
  a.ws.append(EntryKind.chat, encodeChat('hello'));
  for (const r of [b, g]) {
    const l = connect(r, a);
    await l.initiator.remoteSynced;
    l.close();
  }
  return { a, b, g };
}

/** Opens a raw session to `honest` as `as`, returns a frame sender and the frames coming back. */
async function raw(honest: TestReplica, asKey: Uint8Array) {
  const [mine, theirs] = memoryPair();
  const session = new SyncSession(theirs, { remoteKey: asKey, log: (l) => honest.logs.push(l) });
  const done = session.accept((id, remote) => honest.ws.isMember(toHex(remote)) ? honest.ws : { error: 'forbidden', message: 'not a member' }).catch((e: Error) => e);
  const fs = new FrameStream(mine);
  const incoming = fs.frames();
  await fs.send({ type: FrameType.hello, version: 1, workspace: honest.ws.id });
  const first = (await incoming.next()).value as Frame;
  return { fs, first, incoming, session, done, mine };
}

function chatEntry(r: TestReplica, key: Uint8Array, seq: number, prevHash: Uint8Array, text: string, kind: EntryKind = EntryKind.chat) {
  const head = r.ws.vector();
  const deps = [...head.values()].filter((h) => toHex(h.author) !== toHex(r.signing.publicKey)).map((h) => ({ author: h.author, seq: h.seq, hash: h.hash }));
  return sealEntry({ kind, workspace: r.ws.id, author: r.signing.publicKey, epoch: 0, seq, clock: 100 + seq, time: Date.now(), prevHash, deps },
    kind === EntryKind.chat ? encodeChat(text) : utf8.encode(text), key, r.signing.secretKey);
}

const snapshot = (r: TestReplica) => ({ chat: r.chat.log(r.ws.idHex).map((m) => m.text), heads: [...r.ws.vector()].map(([k, h]) => `${k}:${h.seq}`).sort() });

async function deliver(honest: TestReplica, from: TestReplica, entries: Uint8Array[]) {
  const s = await raw(honest, from.signing.publicKey);
  assert.equal(s.first.type, FrameType.hello);
  await s.fs.send({ type: FrameType.entries, entries });
  await waitFor(() => s.session.received >= entries.length, 2000, 'delivery');
  s.session.close();
  await s.done;
  return s.session;
}

test('a non-member cannot open a session', async () => {
  const { a } = await setup();
  const m = outsider(a, a.key);
  const s = await raw(a, m.signing.publicKey);
  assert.equal(s.first.type, FrameType.error);
  assert.match((s.first as { message: string }).message, /not a member/);
});

test('entries from a non-member holding the key are rejected', async () => {
  const { a, b } = await setup();
  const m = outsider(a, a.key);
  const before = snapshot(a);
  const session = await deliver(a, b, [chatEntry(m, a.key, 1, ZERO_HASH, 'intruder')]);
  assert.equal(session.rejected, 1);
  assert.deepEqual(snapshot(a), before);
  assert.ok(a.logs.some((l) => /not a member/.test(l)));
});

test('a forged signature is rejected', async () => {
  const { a, b } = await setup();
  const before = snapshot(a);
  const bytes = chatEntry(b, a.key, 1, ZERO_HASH, 'forged');
  bytes[bytes.length - 1] ^= 1;
  const session = await deliver(a, b, [bytes]);
  assert.equal(session.rejected, 1);
  assert.deepEqual(snapshot(a), before);
  assert.ok(a.ws.audit().some((r) => r.reason === 'bad signature'));
});

test('replayed entries change nothing; reordered ones are rejected as a gap', async () => {
  const { a, b } = await setup();
  const e1 = chatEntry(b, a.key, 1, ZERO_HASH, 'one');
  const e2 = chatEntry(b, a.key, 2, entryHash(e1), 'two');
  const e3 = chatEntry(b, a.key, 3, entryHash(e2), 'three');
  await deliver(a, b, [e1]);
  const after1 = snapshot(a);
  const replay = await deliver(a, b, [e1, e1]);
  assert.equal(replay.rejected, 0);
  assert.deepEqual(snapshot(a), after1);
  const reordered = await deliver(a, b, [e3, e2]);
  assert.ok(reordered.rejected >= 1);
  assert.ok(a.ws.audit().some((r) => /gap/.test(r.reason)));
  assert.deepEqual(snapshot(a), after1);
  await deliver(a, b, [e2, e3]);
  assert.deepEqual(snapshot(a).chat.slice(-3), ['one', 'two', 'three']);
});

test('a broken hash chain and a forked log are rejected; a signed one proves equivocation', async () => {
  const { a, b } = await setup();
  const e1 = chatEntry(b, a.key, 1, ZERO_HASH, 'one');
  await deliver(a, b, [e1]);
  const before = snapshot(a);
  // A broken link forged by someone else: a bad signature, refused, nothing else changes.
  const forged = chatEntry(b, a.key, 2, new Uint8Array(32).fill(7), 'forged link');
  forged[forged.length - 1] ^= 1;
  await deliver(a, b, [forged]);
  assert.deepEqual(snapshot(a), before);
  assert.equal(a.ws.forks.forkedAt(b.ws.selfHex), undefined);
  // The same seq with other content, signed by the author: a fork. Refused, and the two signed
  // entries prove the author equivocated, so its log is void from seq 1 on.
  await deliver(a, b, [chatEntry(b, a.key, 1, ZERO_HASH, 'other one')]);
  assert.ok(a.ws.audit().some((r) => /forked/.test(r.reason)));
  assert.equal(a.ws.forks.forkedAt(b.ws.selfHex), 1);
  assert.ok(!snapshot(a).chat.includes('one'));
  assert.deepEqual(snapshot(a).heads, before.heads, 'nothing new stored');
});

test('a validly signed entry that does not chain onto ours is a fork proof too', async () => {
  const { a, b } = await setup();
  await deliver(a, b, [chatEntry(b, a.key, 1, ZERO_HASH, 'one')]);
  await deliver(a, b, [chatEntry(b, a.key, 2, new Uint8Array(32).fill(7), 'bad link')]);
  assert.ok(a.ws.audit().some((r) => /prevHash/.test(r.reason)));
  assert.equal(a.ws.forks.forkedAt(b.ws.selfHex), 1);
});

test('a guest writing a document update is rejected', async () => {
  const { a, g } = await setup();
  assert.throws(() => g.ws.append(EntryKind.docUpdate, new Uint8Array(20)), /guest may not write doc/);
  const before = snapshot(a);
  await deliver(a, g, [chatEntry(g, a.key, 1, ZERO_HASH, '0123456789abcdef-update', EntryKind.docUpdate)]);
  // Stored (so every replica holds the same log) but never applied, and on record for managers.
  assert.ok(a.ws.audit().some((r) => /guest may not write/.test(r.reason)));
  assert.deepEqual(snapshot(a).chat, before.chat);
});

test('malformed frames close the session; the replica is unchanged and syncs again', async () => {
  const { a, b } = await setup();
  const before = snapshot(a);
  const bad: Uint8Array[] = [
    new Uint8Array([0, 0, 0, 1, 99]),                    // unknown frame type
    new Uint8Array([0xff, 0xff, 0xff, 0xff]),             // length beyond the limit
    encodeFrame({ type: FrameType.entries, entries: [new Uint8Array([1, 2, 3])] }), // malformed entry
    new Uint8Array([0, 0, 0, 9, FrameType.vector, 0, 0, 0, 9, 1, 2, 3, 4]),        // truncated vector
  ];
  for (const frame of bad) {
    const s = await raw(a, b.signing.publicKey);
    await s.mine.write(frame);
    const result = await s.done;
    assert.ok(result instanceof Error, 'session ended with an error');
  }
  assert.deepEqual(snapshot(a), before);
  b.ws.append(EntryKind.chat, encodeChat('still works'));
  const l = connect(b, a);
  await waitFor(() => snapshot(a).chat.includes('still works'), 2000, 'sync after malformed frames');
  l.close();
  assert.ok(a.logs.some((l) => /malformed/.test(l)));
});

test('an entry for another workspace is a malformed frame', async () => {
  const { a, b } = await setup();
  const other = founder('zed');
  const e = decodeEntry(other.ws.append(EntryKind.chat, encodeChat('elsewhere')).bytes);
  const s = await raw(a, b.signing.publicKey);
  await s.fs.send({ type: FrameType.entries, entries: [e.bytes] });
  assert.ok((await s.done) instanceof Error);
});

test('a forked log: two honest replicas holding different versions exchange a proof and both void it', async () => {
  const { a, b } = await setup();
  const c = member(a, 'carol');
  const lc = connect(c, a);
  await lc.initiator.remoteSynced;
  lc.close();
  const left = chatEntry(b, a.key, 1, ZERO_HASH, 'fork left');
  const right = chatEntry(b, a.key, 1, ZERO_HASH, 'fork right');
  await deliver(a, b, [left]);
  await deliver(c, b, [right]);
  assert.ok(snapshot(a).chat.includes('fork left'));
  assert.ok(snapshot(c).chat.includes('fork right'));
  const l = connect(c, a);
  await waitFor(() => !snapshot(a).chat.some((t) => t.startsWith('fork')) && !snapshot(c).chat.some((t) => t.startsWith('fork')), 3000, 'both void the forked entries');
  l.close();
  assert.equal(a.ws.forks.forkedAt(b.ws.selfHex), 1);
  assert.equal(c.ws.forks.forkedAt(b.ws.selfHex), 1);
  assert.deepEqual(snapshot(a).chat, snapshot(c).chat);
  assert.ok(a.logs.some((x) => /forked its log at seq 1/.test(x)));
});

/** `n` chat entries of `r` after its current head, chained; `key(i)` is the AEAD key of entry i. */
function chain(r: TestReplica, n: number, key: (i: number) => Uint8Array): Uint8Array[] {
  const head = r.ws.vector().get(toHex(r.signing.publicKey));
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? ZERO_HASH;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = chatEntry(r, key(i), ++seq, prev, `bulk ${i}`);
    prev = entryHash(bytes);
    out.push(bytes);
  }
  return out;
}

test('in a large batch (hashed and opened on the worker thread), a signed entry the workspace key does not open is held but not applied', async () => {
  const { a, b } = await setup();
  const before = a.chat.log(a.ws.idHex).length;
  const wrongKey = new Uint8Array(32).fill(9);
  const entries = chain(b, 200, (i) => (i === 150 ? wrongKey : a.key));
  const prepared = preparer.stats.entries;
  const session = await deliver(a, b, entries);
  assert.equal(preparer.stats.entries - prepared, 200, 'the batch went through the worker');
  assert.equal(session.rejected, 0);
  const texts = a.chat.log(a.ws.idHex).map((m) => m.text);
  assert.equal(texts.length, before + 199);
  assert.ok(!texts.includes('bulk 150') && texts.includes('bulk 149') && texts.includes('bulk 151'));
  assert.equal(a.ws.vector().get(toHex(b.signing.publicKey))?.seq, 200);
});

test('in a large batch, a signed entry that does not chain on is a fork: the log is void from the entry it contradicts', async () => {
  const { a, b } = await setup();
  const before = snapshot(a);
  const entries = chain(b, 200, () => a.key);
  // Entry 101 signed by its author but linked to another entry 100 than the one it sent.
  const e = decodeEntry(entries[100]);
  entries[100] = sealEntry({ kind: e.kind, workspace: e.workspace, author: e.author, epoch: e.epoch, seq: e.seq, clock: e.clock, time: e.time, prevHash: new Uint8Array(32).fill(3), deps: e.deps }, encodeChat('bulk 100'), a.key, b.signing.secretKey);
  const session = await deliver(a, b, entries);
  assert.ok(session.rejected >= 1);
  assert.equal(a.ws.vector().get(toHex(b.signing.publicKey))?.seq, 100);
  const got = a.chat.log(a.ws.idHex).map((m) => m.text).filter((t) => !before.chat.includes(t));
  assert.deepEqual(got, Array.from({ length: 99 }, (_, i) => `bulk ${i}`));
  assert.ok(a.logs.some((l) => /prevHash does not match/.test(l)));
  assert.ok(a.logs.some((l) => /forked its log at seq 100/.test(l)));
});
