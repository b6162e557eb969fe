// Fork proofs at a relay: a member that signs two versions of its log towards the relay is
// caught there; the relay keeps the proof (durably), refuses the author's entries from the fork on,
// and hands the proof to every member, also to members who only ever meet the relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { entryHash, sealEntry } from '../../src/crypto/entry-seal.ts';
import { signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import { BlindReplica } from '../../src/relay/blind-replica.ts';
import { RelayService } from '../../src/relay/relay-service.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SyncSession } from '../../src/sync/session.ts';
import { ChatTool, encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { Workspace } from '../../src/workspace/workspace.ts';
import { connect, founder, member, waitFor, type TestReplica } from '../helpers/replicas.ts';

const texts = (r: TestReplica) => r.chat.log(r.ws.idHex).map((m) => m.text);

/** Everything `from` holds that `to` lacks, in `from`'s storage order. */
function missing(from: { vector(): Map<string, { author: Uint8Array; seq: number }>; readAfter(a: Uint8Array, s: number, l: number): { order: number; bytes: Uint8Array }[] }, to: { vector(): Map<string, { seq: number }> }): Uint8Array[] {
  const rows: { order: number; bytes: Uint8Array }[] = [];
  for (const [hex, head] of from.vector()) {
    const have = to.vector().get(hex)?.seq ?? 0;
    if (head.seq > have) rows.push(...from.readAfter(head.author, have, 1_000_000));
  }
  return rows.sort((x, y) => x.order - y.order).map((r) => r.bytes);
}

/** Another copy of `r` (same keys, its own store): a device restored from an old backup. */
function clone(r: TestReplica, name: string): TestReplica {
  const store = new MemoryStore();
  store.addWorkspace(r.ws.id);
  const chat = new ChatTool();
  const logs: string[] = [];
  const ctx = { store, signing: r.signing, agreement: r.agreement, handlers: new Map([[chat.kind, chat]]), log: (l: string) => { logs.push(l); }, saveKey: () => {} };
  return { name, signing: r.signing, agreement: r.agreement, store, chat, logs, ws: new Workspace(ctx, r.ws.id, new Map()) };
}

/** A chat entry signed by `signing` at (seq, prevHash) in `r`'s workspace, with `r`'s keys. */
function signedChat(r: TestReplica, signing: KeyPair, seq: number, prevHash: Uint8Array, text: string): Uint8Array {
  const deps = [...r.ws.vector()].filter(([hex]) => hex !== toHex(signing.publicKey)).map(([, h]) => ({ author: h.author, seq: h.seq, hash: h.hash }));
  return sealEntry({
    kind: EntryKind.chat, workspace: r.ws.id, author: signing.publicKey, epoch: 0, seq, clock: 1000 + seq, time: Date.now(), prevHash, deps,
  }, encodeChat(text), r.ws.keyFor(0)!, signing.secretKey);
}

test('a relay catches a fork, keeps the proof across restarts and refuses the author\'s entries from the fork on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-relay-forks-'));
  try {
    const a = founder('alice');
    const b = member(a, 'bob');
    b.ws.ingest(missing(a.ws, b.ws), a.signing.publicKey);
    const left = b.ws.append(EntryKind.chat, encodeChat('fork left')).bytes;
    let store: Store = new SqliteStore(join(dir, 'relay.db'));
    store.addWorkspace(a.ws.id);
    let relay = new BlindReplica({ id: a.ws.id, store, quota: 1 << 30, log: () => {} });
    const events: string[] = [];
    relay.on((e) => events.push(e.type));
    assert.equal(relay.ingest([...missing(a.ws, relay), left], a.signing.publicKey).rejected.length, 0);
    // The other version of bob's seq 1: refused on arrival, and with ours it proves the fork.
    const right = signedChat(b, b.signing, 1, new Uint8Array(32), 'fork right');
    const report = relay.ingest([right], b.signing.publicKey);
    assert.match(report.rejected[0]?.reason ?? '', /forked log/);
    assert.equal(relay.forks.forkedAt(b.ws.selfHex), 1);
    assert.ok(events.includes('fork'), 'the relay passes the proof on');
    const proof = relay.forks.proofs();
    assert.equal(proof.length, 1);
    // Bob's next entry on his first version: never stored.
    const after = signedChat(b, b.signing, 2, entryHash(left), 'after the fork');
    assert.match(relay.ingest([after], b.signing.publicKey).rejected[0]?.reason ?? '', /forked its log at seq 1/);
    // Alice's entries still get in.
    assert.equal(relay.ingest([a.ws.append(EntryKind.chat, encodeChat('still fine')).bytes], a.signing.publicKey).accepted, 1);
    // A restarted relay has the proof (SQLite) and still refuses bob's later entries.
    store.close();
    store = new SqliteStore(join(dir, 'relay.db'));
    relay = new BlindReplica({ id: a.ws.id, store, quota: 1 << 30, log: () => {} });
    relay.load();
    assert.equal(relay.forks.forkedAt(b.ws.selfHex), 1);
    assert.deepEqual(relay.forks.proofs().map((p) => p.map(toHex)), proof.map((p) => p.map(toHex)));
    assert.match(relay.ingest([after], b.signing.publicKey).rejected[0]?.reason ?? '', /forked its log at seq 1/);
    // Proofs about authors the relay holds nothing of (anyone can make one with a fresh key) are not kept.
    const stranger = signingKeyPair();
    const x = signedChat(b, stranger, 1, new Uint8Array(32), 'x');
    const y = signedChat(b, stranger, 1, new Uint8Array(32), 'y');
    assert.equal(relay.forks.report([x, y]), false);
    assert.equal(relay.forks.forkedAt(toHex(stranger.publicKey)), undefined);
    assert.equal(store.forks(a.ws.id).length, 1);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member forks its log towards the relay; members online then, and members who only meet the relay later, void it', async () => {
  const relayKey = signingKeyPair();
  const relayHex = toHex(relayKey.publicKey);
  const store = new MemoryStore();
  const logs: string[] = [];
  const marks = { isVerified: () => false, markVerified: () => {}, forgetVerified: () => {} };
  const service = new RelayService({ store, marks, selfKeyHex: relayHex, quota: 1 << 30, log: (l) => logs.push(l) });
  const link = async (r: TestReplica) => {
    const [x, y] = memoryPair();
    const s = new SyncSession(x, { remoteKey: relayKey.publicKey, log: (l) => r.logs.push(l) });
    void s.initiate(r.ws).catch(() => {});
    service.accept(y, r.signing.publicKey);
    await s.remoteSynced;
    return s;
  };
  const a = founder('alice');
  const b = member(a, 'bob');
  const c = member(a, 'carol');
  a.ws.appendControl({ type: 'relay', key: relayHex, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${relayHex}`] });
  a.ws.append(EntryKind.chat, encodeChat('hello'));
  const la = await link(a);
  await waitFor(() => service.served()[0]?.entries === 5, 5000, 'the relay holds alice\'s entries');
  // Bob's restored backup: a copy of his replica from before he wrote anything.
  const lb0 = connect(b, a);
  await lb0.initiator.remoteSynced;
  lb0.close();
  const b2 = clone(b, 'bob (restored)');
  const lc = connect(b2, a);
  await lc.initiator.remoteSynced;
  lc.close();
  // Bob writes through the relay; alice (connected) gets it.
  const lb = await link(b);
  b.ws.append(EntryKind.chat, encodeChat('fork left'));
  await waitFor(() => texts(a).includes('fork left'), 5000, 'alice has bob\'s message');
  lb.close();
  // The restored copy writes another seq 1 and meets the relay: the heads differ, the relay proves the fork.
  b2.ws.append(EntryKind.chat, encodeChat('fork right'));
  const lb2 = await link(b2);
  await waitFor(() => logs.some((l) => /author .* forked its log at seq 1/.test(l)), 5000, 'the relay catches the fork');
  lb2.close();
  // Alice, connected, got the proof at once: neither version takes effect.
  await waitFor(() => a.ws.forks.forkedAt(b.ws.selfHex) === 1, 5000, 'alice gets the proof');
  assert.deepEqual(texts(a), ['hello']);
  la.close();
  // Carol was never online with bob: she meets the relay only, later, and gets the proof with the history.
  const lcarol = await link(c);
  await waitFor(() => c.ws.forks.forkedAt(b.ws.selfHex) === 1, 5000, 'carol gets the proof');
  assert.deepEqual(texts(c), ['hello']);
  assert.ok(c.logs.some((l) => /author .* forked its log at seq 1; its entries from there on are void/.test(l)));
  // The relay never sends the forked log beyond its fork point.
  assert.equal(c.ws.vector().get(b.ws.selfHex), undefined);
  lcarol.close();
});
