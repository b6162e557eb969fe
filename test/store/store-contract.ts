// The contract every Store implementation must pass (SQLite and memory run the same tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

export function storeContract(name: string, open: () => { store: Store; reopen?: () => Store; cleanup?: () => void }): void {
  const ws = bytes(16, 1);
  const alice = bytes(32, 2);
  const bob = bytes(32, 3);
  const row = (author: Uint8Array, seq: number) => ({ author, seq, hash: bytes(32, seq % 256), bytes: new Uint8Array([author[0], seq & 255, 9, 9]) });

  test(`${name}: workspaces and sealed keys`, () => {
    const { store, cleanup } = open();
    try {
      store.addWorkspace(ws);
      store.addWorkspace(ws);
      assert.equal(store.workspaceIds().length, 1);
      store.putKey(ws, 1, bytes(8, 5));
      store.putKey(ws, 0, bytes(8, 4));
      assert.deepEqual(store.keys(ws).map((k) => k.epoch), [0, 1]);
      assert.deepEqual([...store.keys(ws)[1].sealedKey], [...bytes(8, 5)]);
    } finally { store.close(); cleanup?.(); }
  });

  test(`${name}: readAfter pages through long logs stored in many batches, from any point`, () => {
    const { store, cleanup } = open();
    try {
      store.addWorkspace(ws);
      // Alice's 9,000 entries in batches of varied size (some beyond one stored run), Bob's between them.
      const body = (author: Uint8Array, seq: number) => ({ author, seq, hash: bytes(32, seq % 256), bytes: new Uint8Array([author[0], seq >> 8, seq & 255, (seq * 7) & 255].slice(0, 1 + (seq % 4))) });
      let a = 0;
      let b = 0;
      for (const n of [1, 999, 5000, 3, 2997]) {
        store.appendEntries(ws, Array.from({ length: n }, () => body(alice, ++a)));
        store.appendEntries(ws, [body(bob, ++b)]);
      }
      assert.equal(a, 9000);
      const expect = (seq: number) => [...body(alice, seq).bytes];
      for (const [after, limit] of [[0, 1], [0, 1000], [1, 1000], [999, 2], [1000, 4096], [5999, 5], [4095, 10], [8998, 1000], [9000, 10]]) {
        const rows = store.readAfter(ws, alice, after, limit);
        assert.equal(rows.length, Math.min(limit, 9000 - after), `after ${after} limit ${limit}`);
        rows.forEach((r, i) => { assert.equal(r.seq, after + 1 + i); assert.deepEqual([...r.bytes], expect(r.seq)); });
        for (let i = 1; i < rows.length; i++) assert.ok(rows[i].order > rows[i - 1].order, 'storage order increases');
      }
      // A session's paging, 1,000 at a time, sees every entry once, in order.
      const seen: number[] = [];
      for (let after = 0; ;) {
        const page = store.readAfter(ws, alice, after, 1000);
        if (page.length === 0) break;
        for (const r of page) seen.push(r.seq);
        after = page[page.length - 1].seq;
      }
      assert.deepEqual(seen, Array.from({ length: 9000 }, (_, i) => i + 1));
      assert.deepEqual(store.readAfter(ws, bob, 2, 10).map((r) => r.seq), [3, 4, 5]);
    } finally { store.close(); cleanup?.(); }
  });

  test(`${name}: entries, heads, readAfter in storage order, duplicates refused atomically`, () => {
    const { store, cleanup } = open();
    try {
      store.addWorkspace(ws);
      store.appendEntries(ws, [row(alice, 1), row(alice, 2), row(bob, 1)]);
      store.appendEntries(ws, [row(alice, 3)]);
      const heads = store.heads(ws).map((h) => [h.author[0], h.seq]).sort();
      assert.deepEqual(heads, [[2, 3], [3, 1]]);
      assert.deepEqual([...store.hashAt(ws, alice, 2)!], [...bytes(32, 2)]);
      assert.equal(store.hashAt(ws, alice, 9), undefined);
      assert.equal(store.hashAt(ws, bytes(32, 7), 1), undefined);
      const after = store.readAfter(ws, alice, 1, 10);
      assert.deepEqual(after.map((r) => r.seq), [2, 3]);
      assert.ok(after[0].order < after[1].order);
      const bobRow = store.readAfter(ws, bob, 0, 10)[0];
      assert.ok(bobRow.order > after[0].order && bobRow.order < after[1].order, 'order is insertion order across authors');
      assert.deepEqual(store.readAfter(ws, alice, 0, 1).map((r) => r.seq), [1]);
      assert.deepEqual([...store.allEntries(ws)].map((b) => [b[0], b[1]]), [[2, 1], [2, 2], [3, 1], [2, 3]]);
      // A batch that skips a seq is refused as a whole.
      assert.throws(() => store.appendEntries(ws, [row(bob, 3)]));
      assert.equal(store.heads(ws).find((h) => h.author[0] === 3)!.seq, 1);
      // A batch holding a duplicate is refused as a whole.
      assert.throws(() => store.appendEntries(ws, [row(bob, 2), row(alice, 3)]));
      assert.equal(store.heads(ws).find((h) => h.author[0] === 3)!.seq, 1);
    } finally { store.close(); cleanup?.(); }
  });

  test(`${name}: a removed workspace leaves nothing behind; others are untouched`, () => {
    const { store, cleanup } = open();
    try {
      const other = bytes(16, 8);
      store.addWorkspace(ws);
      store.addWorkspace(other);
      store.putKey(ws, 0, bytes(8, 4));
      store.appendEntries(ws, [row(alice, 1), row(alice, 2)]);
      store.appendEntries(other, [row(alice, 1)]);
      store.putFork(ws, alice, 2, bytes(4, 1), bytes(4, 2));
      store.putInvite({ id: bytes(32, 20), secret: bytes(32, 21), workspace: ws, role: 'guest', expires: 9 });
      store.putInvite({ id: bytes(32, 22), secret: bytes(32, 23), workspace: other, role: 'guest', expires: 9 });
      store.removeWorkspace(ws);
      assert.deepEqual(store.workspaceIds().map((w) => w[0]), [8]);
      assert.deepEqual([store.getInvite(bytes(32, 20)), store.invitesOf(other).length], [undefined, 1]);
      assert.deepEqual(store.heads(other).map((h) => h.seq), [1]);
      // Held again from scratch (a relay attached anew): the log starts at seq 1.
      store.addWorkspace(ws);
      assert.deepEqual([store.heads(ws), store.forks(ws), [...store.allEntries(ws)], store.keys(ws)], [[], [], [], []]);
      store.appendEntries(ws, [row(alice, 1)]);
      assert.deepEqual(store.readAfter(ws, alice, 0, 10).map((r) => r.seq), [1]);
    } finally { store.close(); cleanup?.(); }
  });

  test(`${name}: fork proofs, one per author`, () => {
    const { store, cleanup } = open();
    try {
      store.addWorkspace(ws);
      store.putFork(ws, alice, 3, bytes(4, 1), bytes(4, 2));
      store.putFork(ws, alice, 2, bytes(4, 3), bytes(4, 4));
      assert.deepEqual(store.forks(ws).map((f) => [f.author[0], f.seq, f.a[0]]), [[2, 3, 1]]);
      assert.deepEqual(store.forks(bytes(16, 9)), []);
    } finally { store.close(); cleanup?.(); }
  });

  test(`${name}: invitations are used once`, () => {
    const { store, cleanup } = open();
    try {
      const inv = { id: bytes(32, 8), secret: bytes(32, 9), workspace: ws, role: 'guest', expires: 1234 };
      store.putInvite(inv);
      assert.equal(store.getInvite(inv.id)!.role, 'guest');
      assert.deepEqual([...store.getInvite(inv.id)!.secret], [...inv.secret]);
      assert.equal(store.getInvite(bytes(32, 1)), undefined);
      assert.equal(store.useInvite(inv.id, alice), true);
      assert.equal(store.useInvite(inv.id, bob), false);
      assert.equal(store.getInvite(inv.id)!.usedBy![0], alice[0]);
      // Listed per workspace, soonest expiry first, used ones with their member.
      store.putInvite({ id: bytes(32, 10), secret: bytes(32, 11), workspace: ws, role: 'participant', expires: 999 });
      store.putInvite({ id: bytes(32, 12), secret: bytes(32, 13), workspace: bytes(16, 9), role: 'guest', expires: 1 });
      assert.deepEqual(store.invitesOf(ws).map((i) => [i.id[0], i.role, i.expires, i.usedBy?.[0]]), [[10, 'participant', 999, undefined], [8, 'guest', 1234, alice[0]]]);
      assert.deepEqual(store.invitesOf(bytes(16, 7)), []);
    } finally { store.close(); cleanup?.(); }
  });

  test(`${name}: peer addresses`, () => {
    const { store, reopen, cleanup } = open();
    try {
      store.setPeerAddrs(alice, ['/ip4/127.0.0.1/tcp/1']);
      store.setPeerAddrs(alice, ['/ip4/127.0.0.1/tcp/2']);
      assert.deepEqual(store.peerAddrs().map((p) => p.addrs), [['/ip4/127.0.0.1/tcp/2']]);
      if (reopen) {
        store.addWorkspace(ws);
        store.appendEntries(ws, [row(alice, 1)]);
        store.close();
        const again = reopen();
        assert.deepEqual(again.peerAddrs().map((p) => p.addrs), [['/ip4/127.0.0.1/tcp/2']]);
        assert.equal(again.heads(ws)[0].seq, 1);
        again.close();
      }
    } finally { store.close(); cleanup?.(); }
  });
}
