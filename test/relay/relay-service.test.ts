// The relay's sync side over in-memory pairs: provisional acceptance of unknown workspaces,
// serving attached ones, refusing strangers, quotas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SessionError, SyncSession } from '../../src/sync/session.ts';
import { RelayService } from '../../src/relay/relay-service.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { sealSignal } from '../../src/workspace/call-signal.ts';
import { founder, member, outsider, waitFor, type TestReplica } from '../helpers/replicas.ts';

const texts = (r: TestReplica) => r.chat.log(r.ws.idHex).map((m) => m.text);

function relay(opts: { quota?: number; provisionalBytes?: number; provisionalMs?: number; allow?: string[] } = {}) {
  const key = signingKeyPair();
  const store = new MemoryStore();
  const logs: string[] = [];
  const verified = new Set<string>();
  const marks = { isVerified: (ws: string) => verified.has(ws), markVerified: (ws: string) => { verified.add(ws); }, forgetVerified: (ws: string) => { verified.delete(ws); } };
  const service = new RelayService({ store, marks, selfKeyHex: toHex(key.publicKey), quota: opts.quota ?? 1 << 30, log: (l) => logs.push(l), ...opts });
  return { key, hex: toHex(key.publicKey), store, service, logs };
}

/** A member opens a session with the relay (as peers do); resolves with how it ended. */
function sync(r: TestReplica, rel: ReturnType<typeof relay>) {
  const [a, b] = memoryPair();
  const session = new SyncSession(a, { remoteKey: rel.key.publicKey, log: (l) => r.logs.push(l) });
  const ended = session.initiate(r.ws).then(() => undefined, (err: Error) => err);
  const remote = rel.service.accept(b, r.signing.publicKey);
  return { session, remote, ended };
}

test('an attached relay keeps the workspace and carries messages between members who are never online together', async () => {
  const rel = relay();
  const a = founder('alice');
  const b = member(a, 'bob');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  for (let i = 0; i < 500; i++) a.ws.append(EntryKind.chat, encodeChat(`m${i}`));
  let link = sync(a, rel);
  await link.session.remoteSynced;
  await waitFor(() => rel.service.served()[0]?.entries === 503, 5000, 'relay holds alice\'s history');
  link.session.close();
  assert.deepEqual(rel.store.workspaceIds().map(toHex), [a.ws.idHex]);
  // Bob, never online with Alice, pulls from the relay.
  link = sync(b, rel);
  await link.session.remoteSynced;
  assert.equal(texts(b).length, 500);
  b.ws.append(EntryKind.chat, encodeChat('reply'));
  await waitFor(() => rel.service.served()[0].entries === 504, 5000, 'reply at the relay');
  link.session.close();
  link = sync(a, rel);
  await link.session.remoteSynced;
  assert.equal(texts(a).at(-1), 'reply');
  link.session.close();
});

test('a workspace that does not attach the relay is dropped: nothing stored, the peer is told', async () => {
  const rel = relay();
  const a = founder('alice');
  for (let i = 0; i < 20; i++) a.ws.append(EntryKind.chat, encodeChat(`m${i}`));
  const link = sync(a, rel);
  const err = await link.ended;
  assert.ok(err instanceof SessionError, String(err));
  assert.equal(err.code, 'not-found');
  assert.match(err.message, /not attached/);
  assert.deepEqual(rel.store.workspaceIds(), []);
  assert.deepEqual(rel.service.served(), []);
});

test('an attachment by a manager the operator did not allow is not honoured', async () => {
  const rel = relay({ allow: ['ab'.repeat(32)] });
  const a = founder('alice');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  const err = await sync(a, rel).ended;
  assert.equal((err as SessionError).code, 'not-found');
  assert.deepEqual(rel.store.workspaceIds(), []);
});

test('a silent peer cannot hold a provisional workspace open: it is dropped after the time limit', async () => {
  const rel = relay({ provisionalMs: 200 });
  const a = founder('alice');
  const [x, y] = memoryPair();
  const session = new SyncSession(x, { remoteKey: rel.key.publicKey, log: () => {} });
  rel.service.accept(y, a.signing.publicKey);
  // HELLO only, then nothing (a hand-made client).
  await session.frames.send({ type: 1, version: 1, workspace: a.ws.id });
  const frames = session.frames.frames();
  const seen: number[] = [];
  for await (const f of frames) { seen.push(f.type); if (f.type === 6) break; }
  assert.deepEqual(seen, [1, 2, 6]);
  assert.deepEqual(rel.store.workspaceIds(), []);
});

test('a history longer than the provisional memory cap is checked to its attachment, then completed', async () => {
  const rel = relay({ provisionalBytes: 20_000 });
  const a = founder('alice');
  const b = member(a, 'bob');
  for (let i = 0; i < 300; i++) a.ws.append(EntryKind.chat, encodeChat(`long history ${i}`));
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  const first = await sync(a, rel).ended;
  assert.equal((first as SessionError).code, 'retry');
  const held = rel.service.served()[0].entries;
  assert.ok(held > 0 && held < 303, `held a prefix: ${held}`);
  const second = sync(a, rel);
  await second.session.remoteSynced;
  await waitFor(() => rel.service.served()[0].entries === 303, 5000, 'the rest');
  second.session.close();
  const third = sync(b, rel);
  await third.session.remoteSynced;
  assert.equal(texts(b).length, 300);
  third.session.close();
});

test('non-members are refused by an attached relay; their entries never get in', async () => {
  const rel = relay();
  const a = founder('alice');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  const link = sync(a, rel);
  await link.session.remoteSynced;
  await waitFor(() => rel.service.served().length === 1, 5000, 'served');
  const m = outsider(a, a.key);
  const err = await sync(m, rel).ended;
  assert.equal((err as SessionError).code, 'forbidden');
  link.session.close();
});

test('the relay passes call signals on between members connected only to it, as it does presence', async () => {
  const rel = relay();
  const a = founder('alice');
  const b = member(a, 'bob');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  const la = sync(a, rel);
  await la.session.remoteSynced;
  // Bob's session hears signals (as a peer's does).
  const [x, y] = memoryPair();
  const heard: Uint8Array[] = [];
  const sb = new SyncSession(x, { remoteKey: rel.key.publicKey, log: () => {}, onSignal: (blob) => heard.push(blob) });
  void sb.initiate(b.ws).catch(() => undefined);
  rel.service.accept(y, b.signing.publicKey);
  await sb.remoteSynced;
  const blob = sealSignal(a.ws, a.signing, b.signing.publicKey, 1, { call: 'ab'.repeat(16), type: 'bye' })!;
  assert.equal(la.session.sendSignal(blob), true);
  await waitFor(() => heard.length === 1, 5000, 'the signal at bob');
  assert.deepEqual([...heard[0]], [...blob]);
  la.session.close();
  sb.close();
});

test('over quota: the member is told clearly, the relay keeps what it holds', async () => {
  const rel = relay({ quota: 30_000 });
  const a = founder('alice');
  const b = member(a, 'bob');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  let link = sync(a, rel);
  await link.session.remoteSynced;
  await waitFor(() => rel.service.served().length === 1, 5000, 'served');
  for (let i = 0; i < 100; i++) a.ws.append(EntryKind.chat, encodeChat('y'.repeat(500)));
  const err = await link.ended;
  assert.equal((err as SessionError).code, 'quota');
  assert.match(err!.message, /over quota: this relay holds \d+ bytes .* quota is 30000 bytes; nothing already stored is lost/);
  const before = rel.service.served()[0];
  assert.ok(before.bytesHeld <= 30_000 && before.entries > 2);
  // A second try changes nothing and loses nothing.
  link = sync(a, rel);
  assert.equal(((await link.ended) as SessionError).code, 'quota');
  assert.deepEqual(rel.service.served()[0].entries, before.entries);
  const pull = sync(b, rel);
  await pull.session.remoteSynced;
  assert.equal(texts(b).length, before.entries - 3);
  pull.session.close();
});

test('a detached relay drops the workspace; attached again, it checks and serves it afresh', async () => {
  const rel = relay();
  const a = founder('alice');
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/1'] });
  for (let i = 0; i < 10; i++) a.ws.append(EntryKind.chat, encodeChat(`m${i}`));
  let link = sync(a, rel);
  await link.session.remoteSynced;
  await waitFor(() => rel.service.served()[0]?.entries === 12, 5000, 'served');
  a.ws.appendControl({ type: 'unrelay', key: rel.hex });
  const err = await link.ended;
  assert.equal((err as SessionError).code, 'not-found');
  assert.match(err!.message, /detached/);
  await waitFor(() => rel.store.workspaceIds().length === 0, 5000, 'entries dropped');
  assert.deepEqual(rel.service.served(), []);
  assert.equal(rel.service.bytesHeld(), 0);
  // Attached again: a fresh provisional check, then served with the whole history.
  a.ws.appendControl({ type: 'relay', key: rel.hex, addrs: ['/ip4/127.0.0.1/tcp/2'] });
  link = sync(a, rel);
  await link.session.remoteSynced;
  await waitFor(() => rel.service.served()[0]?.entries === 14, 5000, 'served again');
  link.session.close();
});
