// When the store refuses to write (a full disk), a workspace's memory must not run ahead of it:
// our own next entry must still extend the stored log, and entries received meanwhile must still
// count as missing, so that they are asked for (and accepted) again; the same for a relay's blind
// replica. Real Workspaces and BlindReplicas over a MemoryStore that fails on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import type { EntryRow } from '../../src/store/store.ts';
import { ChatTool, encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { agreementKeyPair, signingKeyPair } from '../../src/crypto/sodium.ts';
import { addPayload } from '../../src/workspace/control-builders.ts';
import { Workspace } from '../../src/workspace/workspace.ts';
import { BlindReplica } from '../../src/relay/blind-replica.ts';
import { founder, member } from '../helpers/replicas.ts';

/** A MemoryStore whose next append fails as a full disk does. */
class FlakyStore extends MemoryStore {
  failNext = false;
  override appendEntries(workspace: Uint8Array, rows: EntryRow[], durable?: boolean): void {
    if (this.failNext) {
      this.failNext = false;
      throw Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 });
    }
    super.appendEntries(workspace, rows, durable);
  }
}

/** Everything `from` holds that `to` lacks, in `from`'s storage order. */
function missing(from: Workspace, to: Workspace | BlindReplica): Uint8Array[] {
  const rows: { order: number; bytes: Uint8Array }[] = [];
  for (const [hex, head] of from.vector()) {
    const have = to.vector().get(hex)?.seq ?? 0;
    if (head.seq > have) rows.push(...from.readAfter(head.author, have, 1_000_000));
  }
  return rows.sort((a, b) => a.order - b.order).map((r) => r.bytes);
}

const heads = (r: { vector(): ReadonlyMap<string, { seq: number }> }): string => JSON.stringify([...r.vector()].map(([k, h]) => [k, h.seq]).sort());

test('store failure: received entries (chat and a control entry) stay missing and are accepted on the next try', () => {
  const alice = founder();
  const store = new FlakyStore();
  const bob = member(alice, 'bob', 'participant', store);
  bob.ws.ingest(missing(alice.ws, bob.ws), alice.signing.publicKey);
  const before = heads(bob.ws);
  // Alice writes two messages and adds Carol.
  alice.ws.append(EntryKind.chat, encodeChat('one'));
  alice.ws.append(EntryKind.chat, encodeChat('two'));
  alice.ws.appendControl(addPayload(alice.ws, { key: 'cc'.repeat(32), agreementKey: 'dd'.repeat(32), name: 'carol', role: 'guest', invite: toHex(new Uint8Array(32)) }));
  const batch = missing(alice.ws, bob.ws);
  assert.equal(batch.length, 3);
  store.failNext = true;
  assert.throws(() => bob.ws.ingest(batch, alice.signing.publicKey), /disk is full/);
  assert.equal(heads(bob.ws), before, 'nothing counts as held');
  assert.equal(bob.ws.isMember('cc'.repeat(32)), false, 'the add was not taken into account');
  assert.deepEqual(missing(alice.ws, bob.ws).length, 3, 'so all three are still to be fetched');
  // The next try goes through, as if the failure had never been.
  assert.equal(bob.ws.ingest(missing(alice.ws, bob.ws), alice.signing.publicKey).accepted, 3);
  assert.equal(heads(bob.ws), heads(alice.ws));
  assert.equal(bob.ws.isMember('cc'.repeat(32)), true);
  assert.deepEqual(bob.chat.log(bob.ws.idHex).map((m) => m.text), ['one', 'two']);
});

test('store failure: our own entry is not counted, and the next one extends the stored log', () => {
  const store = new FlakyStore();
  const alice = founder('alice', store);
  alice.ws.append(EntryKind.chat, encodeChat('kept'));
  const before = heads(alice.ws);
  store.failNext = true;
  assert.throws(() => alice.ws.append(EntryKind.chat, encodeChat('lost')), /disk is full/);
  assert.equal(heads(alice.ws), before);
  // Without the rollback this would fail: "entry N+1 does not extend its log".
  alice.ws.append(EntryKind.chat, encodeChat('after'));
  assert.deepEqual(alice.chat.log(alice.ws.idHex).map((m) => m.text), ['kept', 'after']);
  const bob = member(alice, 'bob');
  bob.ws.ingest(missing(alice.ws, bob.ws), alice.signing.publicKey);
  assert.deepEqual(bob.chat.log(bob.ws.idHex).map((m) => m.text), ['kept', 'after'], 'a replica gets exactly what was stored');
});

test('store failure: a relay\'s blind replica does not claim what it could not store, and takes it on the next try', () => {
  const alice = founder();
  member(alice, 'bob');
  alice.ws.append(EntryKind.chat, encodeChat('one'));
  const store = new FlakyStore();
  store.addWorkspace(alice.ws.id);
  const relay = new BlindReplica({ id: alice.ws.id, store, quota: 64 * 1024 * 1024, log: () => {} });
  const batch = missing(alice.ws, relay);
  store.failNext = true;
  assert.throws(() => relay.ingest(batch, alice.signing.publicKey), /disk is full/);
  assert.equal(relay.vector().size, 0, 'no entry counts as held');
  assert.equal(relay.isMember(toHex(alice.signing.publicKey)), false);
  assert.equal(relay.ingest(missing(alice.ws, relay), alice.signing.publicKey).accepted, batch.length);
  assert.equal(heads(relay), heads(alice.ws));
  assert.equal(relay.isMember(toHex(alice.signing.publicKey)), true);
});

test('store failure: a key that cannot be saved does not stop the entries that carry it; the next start opens it again', () => {
  const alice = founder();
  alice.ws.append(EntryKind.chat, encodeChat('secret'));
  // Bob, whose key saving fails (a full disk), joins and receives the history with his keys in it.
  const signing = signingKeyPair();
  const agreement = agreementKeyPair();
  alice.ws.appendControl(addPayload(alice.ws, { key: toHex(signing.publicKey), agreementKey: toHex(agreement.publicKey), name: 'bob', role: 'participant', invite: toHex(new Uint8Array(32)) }));
  const store = new MemoryStore();
  store.addWorkspace(alice.ws.id);
  const logs: string[] = [];
  const ctx = (chat: ChatTool) => ({
    store, signing, agreement, handlers: new Map([[chat.kind, chat]]), log: (l: string) => { logs.push(l); },
    saveKey: () => { throw Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 }); },
  });
  const chat = new ChatTool();
  const bob = new Workspace(ctx(chat), alice.ws.id, new Map());
  assert.equal(bob.ingest(missing(alice.ws, bob), alice.signing.publicKey).accepted, 3);
  assert.deepEqual(chat.log(bob.idHex).map((m) => m.text), ['secret'], 'applied, with the key held in memory');
  assert.ok(logs.some((l) => /saving the key of epoch 0 failed/.test(l)));
  // A restart: nothing saved the key, the stored entries give it back.
  const again = new ChatTool();
  const restarted = new Workspace(ctx(again), alice.ws.id, new Map());
  restarted.load();
  assert.deepEqual(again.log(restarted.idHex).map((m) => m.text), ['secret']);
});
