// The relay's keyless replica: it stores what members would store, minus entries of non-members
// and removed members, within a quota, and can serve it to members who were never online with
// the writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { entryHash, sealEntry } from '../../src/crypto/entry-seal.ts';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { BlindReplica } from '../../src/relay/blind-replica.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { newEpoch } from '../../src/workspace/control-builders.ts';
import { founder, member, outsider, type TestReplica } from '../helpers/replicas.ts';

const RELAY = signingKeyPair();
const RELAY_HEX = toHex(RELAY.publicKey);

function blind(a: TestReplica, quota = 64 * 1024 * 1024, store = new MemoryStore()) {
  store.addWorkspace(a.ws.id);
  return new BlindReplica({ id: a.ws.id, store, quota, log: () => {} });
}

/** Everything `from` holds that `to` lacks, in `from`'s storage order. */
function missing(from: { vector(): Map<string, { author: Uint8Array; seq: number }>; readAfter(a: Uint8Array, s: number, l: number): { order: number; bytes: Uint8Array }[] }, to: { vector(): Map<string, { seq: number }> }): Uint8Array[] {
  const rows: { order: number; bytes: Uint8Array }[] = [];
  for (const [hex, head] of from.vector()) {
    const have = to.vector().get(hex)?.seq ?? 0;
    if (head.seq > have) rows.push(...from.readAfter(head.author, have, 1_000_000));
  }
  return rows.sort((x, y) => x.order - y.order).map((r) => r.bytes);
}

const texts = (r: TestReplica) => r.chat.log(r.ws.idHex).map((m) => m.text);

/** An entry by `r` that its own replica would not write (it knows it was removed): signed by hand. */
function forgeChat(r: TestReplica, text: string): Uint8Array {
  const self = r.ws.selfHex;
  const head = r.ws.vector().get(self);
  const deps = [...r.ws.vector()].filter(([hex]) => hex !== self).map(([, h]) => ({ author: h.author, seq: h.seq, hash: h.hash }));
  const clock = 1 + Math.max(0, ...[...r.ws.vector().values()].map((h) => h.seq)) * 10;
  return sealEntry({
    kind: EntryKind.chat, workspace: r.ws.id, author: r.signing.publicKey, epoch: 0, seq: (head?.seq ?? 0) + 1, clock,
    time: Date.now(), prevHash: head?.hash ?? new Uint8Array(32), deps,
  }, encodeChat(text), r.ws.keyFor(0) ?? new Uint8Array(32), r.signing.secretKey);
}

test('a relay holds members\' entries and serves them to a member who was never online with the writer', () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  a.ws.appendControl({ type: 'relay', key: RELAY_HEX, addrs: ['/ip4/127.0.0.1/tcp/4001'] });
  for (let i = 0; i < 500; i++) a.ws.append(EntryKind.chat, encodeChat(`message ${i}`));
  const relay = blind(a);
  const report = relay.ingest(missing(a.ws, relay), a.signing.publicKey);
  assert.equal(report.rejected.length, 0, JSON.stringify(report.rejected.slice(0, 3)));
  assert.equal(report.accepted, 503);
  assert.ok(relay.attaches(RELAY_HEX));
  assert.ok(relay.isMember(b.ws.selfHex));
  // Bob pulls from the relay alone.
  b.ws.ingest(missing(relay, b.ws), RELAY.publicKey);
  assert.equal(texts(b).length, 500);
  // Bob's reply goes through the relay back to Alice.
  b.ws.append(EntryKind.chat, encodeChat('reply'));
  assert.equal(relay.ingest(missing(b.ws, relay), b.signing.publicKey).accepted, 1);
  a.ws.ingest(missing(relay, a.ws), RELAY.publicKey);
  assert.equal(texts(a).at(-1), 'reply');
  // A detached relay knows it.
  a.ws.appendControl({ type: 'unrelay', key: RELAY_HEX });
  relay.ingest(missing(a.ws, relay), a.signing.publicKey);
  assert.ok(!relay.attaches(RELAY_HEX));
});

test('entries of a non-member are refused, even with a leaked key', () => {
  const a = founder('alice');
  const m = outsider(a, a.key);
  m.ws.ingest(missing(a.ws, m.ws), a.signing.publicKey);
  const relay = blind(a);
  relay.ingest(missing(a.ws, relay), a.signing.publicKey);
  const held = relay.bytesHeld;
  const forged = forgeChat(m, 'spam');
  const report = relay.ingest([forged], m.signing.publicKey);
  assert.equal(report.accepted, 0);
  assert.match(report.rejected[0].reason, /not a member/);
  assert.equal(relay.bytesHeld, held);
});

test('a removed member cannot push entries written after (or concurrently with) its removal', () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  b.ws.ingest(missing(a.ws, b.ws), a.signing.publicKey);
  b.ws.append(EntryKind.chat, encodeChat('before'));
  a.ws.ingest(missing(b.ws, a.ws), b.signing.publicKey);
  const { epoch, keys } = newEpoch(a.ws, b.ws.selfHex);
  a.ws.appendControl({ type: 'remove', key: b.ws.selfHex, epoch, keys });
  const relay = blind(a);
  relay.ingest(missing(a.ws, relay), a.signing.publicKey);
  assert.ok(!relay.isMember(b.ws.selfHex));
  // Concurrently (Bob has not seen his removal): refused, as members void it.
  const concurrent = forgeChat(b, 'concurrent');
  let report = relay.ingest([concurrent], b.signing.publicKey);
  assert.equal(report.accepted, 0);
  assert.match(report.rejected[0].reason, /removed/);
  // After seeing it (the removal in its causal past): refused too.
  b.ws.ingest(missing(a.ws, b.ws), a.signing.publicKey);
  report = relay.ingest([forgeChat(b, 'after')], b.signing.publicKey);
  assert.equal(report.accepted, 0);
  assert.match(report.rejected[0].reason, /removed/);
});

test('a demoted member\'s concurrent write is stored (as members store it) and its later entries still get in', () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  a.ws.appendControl({ type: 'permissions', table: { chat: ['manager', 'participant'], doc: ['manager', 'participant'] } });
  b.ws.ingest(missing(a.ws, b.ws), a.signing.publicKey);
  // Alice demotes Bob to guest (who may not chat now) while Bob, not knowing it, chats.
  a.ws.appendControl({ type: 'role', key: b.ws.selfHex, role: 'guest' });
  b.ws.append(EntryKind.chat, encodeChat('concurrent with my demotion'));
  const relay = blind(a);
  relay.ingest(missing(a.ws, relay), a.signing.publicKey);
  assert.equal(relay.ingest(missing(b.ws, relay), b.signing.publicKey).accepted, 1);
  // Alice holds it too, without effect.
  a.ws.ingest(missing(b.ws, a.ws), b.signing.publicKey);
  assert.equal(texts(a).length, 0);
  // Bob's next entry (he leaves) follows in his log: the relay takes it.
  b.ws.ingest(missing(a.ws, b.ws), a.signing.publicKey);
  b.ws.appendControl({ type: 'remove', key: b.ws.selfHex });
  assert.equal(relay.ingest(missing(b.ws, relay), b.signing.publicKey).accepted, 1);
});

test('over quota: the entries that fit are stored, the rest refused with a clear reason, nothing lost', () => {
  const a = founder('alice');
  for (let i = 0; i < 10; i++) a.ws.append(EntryKind.chat, encodeChat('x'.repeat(1000)));
  const relay = blind(a, 8000);
  const events: string[] = [];
  relay.on((e) => { if (e.type === 'quota') events.push(e.message); });
  const report = relay.ingest(missing(a.ws, relay), a.signing.publicKey);
  assert.ok(report.accepted >= 2 && report.accepted < 11, `accepted ${report.accepted}`);
  assert.match(report.rejected[0].reason, /over quota: this relay holds \d+ bytes .* quota is 8000 bytes/);
  assert.equal(events.length, 1);
  const held = relay.bytesHeld;
  const count = relay.entryCount;
  assert.ok(held <= 8000);
  // More pushes change nothing; what was stored is still there and readable.
  a.ws.append(EntryKind.chat, encodeChat('more'));
  assert.equal(relay.ingest(missing(a.ws, relay), a.signing.publicKey).accepted, 0);
  assert.equal(relay.bytesHeld, held);
  assert.equal(missing(relay, { vector: () => new Map() }).length, count);
});

test('a relay reloads what it stored (SQLite) with the same heads and membership', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-blind-'));
  try {
    const a = founder('alice');
    const b = member(a, 'bob');
    a.ws.appendControl({ type: 'relay', key: RELAY_HEX, addrs: ['/ip4/127.0.0.1/tcp/4001'] });
    for (let i = 0; i < 50; i++) a.ws.append(EntryKind.chat, encodeChat(`m${i}`));
    const store = new SqliteStore(join(dir, 'trellis.db'));
    const relay = blind(a, 1 << 30, store as unknown as MemoryStore);
    relay.ingest(missing(a.ws, relay), a.signing.publicKey);
    store.close();
    const again = new SqliteStore(join(dir, 'trellis.db'));
    const reloaded = new BlindReplica({ id: a.ws.id, store: again, quota: 1 << 30, log: () => {} });
    reloaded.load();
    assert.deepEqual([...reloaded.vector()].map(([k, h]) => [k, h.seq, toHex(h.hash)]), [...a.ws.vector()].map(([k, h]) => [k, h.seq, toHex(h.hash)]));
    assert.equal(reloaded.bytesHeld, relay.bytesHeld);
    assert.ok(reloaded.attaches(RELAY_HEX));
    assert.ok(reloaded.isMember(b.ws.selfHex));
    // And it continues where it stopped.
    a.ws.append(EntryKind.chat, encodeChat('after restart'));
    assert.equal(reloaded.ingest(missing(a.ws, reloaded), a.signing.publicKey).accepted, 1);
    assert.equal(toHex(entryHash(missing(reloaded, { vector: () => new Map() }).at(-1)!)), toHex(a.ws.vector().get(a.ws.selfHex)!.hash));
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
