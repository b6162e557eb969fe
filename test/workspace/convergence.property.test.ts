// Property: random schedules of concurrent control and content entries across 3–5 replicas, with
// random partitions and offline periods (syncs happen only between some pairs, some of the time),
// converge after full sync: same membership, roles, key epoch and tool state everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as Y from 'yjs';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import type { Role } from '../../src/core/membership.ts';
import { agreementKeyPair, hash, signingKeyPairFromSeed } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { ChatTool, encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { DocTool, encodeDocUpdate } from '../../src/tools/docs/doc-tool.ts';
import { addPayload, newEpoch } from '../../src/workspace/control-builders.ts';
import { createWorkspace } from '../../src/workspace/create-workspace.ts';
import { keyCare } from '../../src/workspace/key-care.ts';
import { Workspace } from '../../src/workspace/workspace.ts';

const DOC = 'ab'.repeat(16);
const ROLES: Role[] = ['manager', 'participant', 'guest'];
/** Relay keys the schedules attach and detach (relays are not replicas here: only their state matters). */
const RELAYS = ['1a'.repeat(32), '2b'.repeat(32)];
const INVITES = ['3c'.repeat(32), '4d'.repeat(32)];

interface Replica { hex: string; agreementHex: string; ws: Workspace; chat: ChatTool; docs: DocTool }

/** Keys derive from the schedule's seed, so a failing schedule replays with the same T order. */
function replicas(n: number, seed: number): Replica[] {
  const out: Replica[] = [];
  let id: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const signing = signingKeyPairFromSeed(hash(new TextEncoder().encode(`replica ${seed} ${i}`)));
    const agreement = agreementKeyPair();
    const store = new MemoryStore();
    const chat = new ChatTool();
    const docs = new DocTool();
    const ctx = { store, signing, agreement, handlers: new Map<number, ChatTool | DocTool>([[chat.kind, chat], [docs.kind, docs]]), log: () => {}, saveKey: () => {} };
    let ws: Workspace;
    if (i === 0) {
      ws = createWorkspace(ctx, 'Prop', 'r0').workspace;
      id = ws.id;
    } else {
      store.addWorkspace(id!);
      ws = new Workspace(ctx, id!, new Map());
    }
    out.push({ hex: toHex(signing.publicKey), agreementHex: toHex(agreement.publicKey), ws, chat, docs });
  }
  return out;
}

/** Delivers to `to` everything `from` holds that `to` lacks, in `from`'s storage order. */
function deliver(from: Replica, to: Replica): number {
  const rows: { order: number; bytes: Uint8Array }[] = [];
  for (const [hex, head] of from.ws.vector()) {
    const have = to.ws.vector().get(hex)?.seq ?? 0;
    if (head.seq > have) rows.push(...from.ws.readAfter(head.author, have, 1_000_000));
  }
  if (rows.length === 0) return 0;
  rows.sort((a, b) => a.order - b.order);
  to.ws.ingest(rows.map((r) => r.bytes), new Uint8Array(32));
  return rows.length;
}

type Op =
  | { t: 'chat'; r: number }
  | { t: 'doc'; r: number }
  | { t: 'add'; r: number; target: number; role: number }
  | { t: 'remove'; r: number; target: number }
  | { t: 'role'; r: number; target: number; role: number }
  | { t: 'rotate'; r: number }
  | { t: 'leave'; r: number }
  | { t: 'relay'; r: number; k: number; port: number }
  | { t: 'unrelay'; r: number; k: number }
  | { t: 'addInv'; r: number; target: number; k: number }
  | { t: 'uninvite'; r: number; k: number }
  | { t: 'sync'; a: number; b: number };

const opArb = (n: number): fc.Arbitrary<Op> => {
  const r = fc.integer({ min: 0, max: n - 1 });
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ t: fc.constant('chat' as const), r }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant('doc' as const), r }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('add' as const), r, target: r, role: fc.integer({ min: 0, max: 2 }) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('remove' as const), r, target: r }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('role' as const), r, target: r, role: fc.integer({ min: 0, max: 2 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('rotate' as const), r }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('leave' as const), r }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('relay' as const), r, k: fc.integer({ min: 0, max: 1 }), port: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('unrelay' as const), r, k: fc.integer({ min: 0, max: 1 }) }) },
    // Joins by invitation and revocations of the same invitations, concurrent or not (rule 2c).
    { weight: 2, arbitrary: fc.record({ t: fc.constant('addInv' as const), r, target: r, k: fc.integer({ min: 0, max: 1 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('uninvite' as const), r, k: fc.integer({ min: 0, max: 1 }) }) },
    { weight: 15, arbitrary: fc.record({ t: fc.constant('sync' as const), a: r, b: r }) },
  );
};

function run(n: number, seed: number, roles: number[], ops: Op[]): Replica[] {
  const rs = replicas(n, seed);
  // Everyone starts as a member (random roles), known to all; then the schedule runs.
  for (let i = 1; i < n; i++) {
    rs[0].ws.appendControl(addPayload(rs[0].ws, { key: rs[i].hex, agreementKey: rs[i].agreementHex, name: `r${i}`, role: ROLES[roles[i - 1]], invite: '00'.repeat(32) }));
  }
  for (let i = 1; i < n; i++) deliver(rs[0], rs[i]);
  let k = 0;
  for (const op of ops) {
    // Writes a replica's own view does not permit are refused locally: that is part of the model.
    try {
      switch (op.t) {
        case 'chat': rs[op.r].ws.append(EntryKind.chat, encodeChat(`m${k++}`)); break;
        case 'doc': {
          const w = rs[op.r];
          const d = new Y.Doc();
          Y.applyUpdate(d, Y.encodeStateAsUpdate(w.docs.doc(w.ws.idHex, DOC)));
          const before = Y.encodeStateVector(d);
          d.getText('t').insert(0, `d${k++}`);
          w.ws.append(EntryKind.docUpdate, encodeDocUpdate(Buffer.from(DOC, 'hex'), Y.encodeStateAsUpdate(d, before)));
          break;
        }
        case 'add': {
          const t = rs[op.target];
          rs[op.r].ws.appendControl(addPayload(rs[op.r].ws, { key: t.hex, agreementKey: t.agreementHex, name: `r${op.target}`, role: ROLES[op.role], invite: '00'.repeat(32) }));
          break;
        }
        case 'remove': {
          const { epoch, keys } = newEpoch(rs[op.r].ws, rs[op.target].hex);
          rs[op.r].ws.appendControl({ type: 'remove', key: rs[op.target].hex, epoch, keys });
          break;
        }
        case 'role': rs[op.r].ws.appendControl({ type: 'role', key: rs[op.target].hex, role: ROLES[op.role] }); break;
        case 'rotate': { const { epoch, keys } = newEpoch(rs[op.r].ws); rs[op.r].ws.appendControl({ type: 'rotate', epoch, keys }); break; }
        case 'leave': rs[op.r].ws.appendControl({ type: 'remove', key: rs[op.r].hex }); break;
        case 'relay': rs[op.r].ws.appendControl({ type: 'relay', key: RELAYS[op.k], addrs: [`/ip4/127.0.0.1/tcp/${op.port}`] }); break;
        case 'unrelay': rs[op.r].ws.appendControl({ type: 'unrelay', key: RELAYS[op.k] }); break;
        case 'addInv': {
          const t = rs[op.target];
          rs[op.r].ws.appendControl(addPayload(rs[op.r].ws, { key: t.hex, agreementKey: t.agreementHex, name: `r${op.target}`, role: 'participant', invite: INVITES[op.k] }));
          break;
        }
        case 'uninvite': rs[op.r].ws.appendControl({ type: 'uninvite', invite: INVITES[op.k] }); break;
        case 'sync': if (op.a !== op.b) deliver(rs[op.a], rs[op.b]); break;
      }
    } catch (err) {
      const msg = (err as Error).message;
      // Only permission-style refusals are expected here; anything else is a bug.
      if (!/not a member|may not|may only|no such member|no such relay|already a member|removed|no key|first key|epoch id|already been used|revoked/.test(msg)) throw err;
    }
  }
  // Full sync, then key care by managers (as peers do), then full sync again.
  const fullSync = () => {
    for (let round = 0; round < 2 * n + 2; round++) {
      let moved = 0;
      for (const a of rs) for (const b of rs) if (a !== b) moved += deliver(a, b);
      if (moved === 0) return;
    }
    throw new Error('sync did not settle');
  };
  fullSync();
  for (let i = 0; i < 3; i++) {
    let wrote = 0;
    for (const r of rs) for (const c of keyCare(r.ws)) { r.ws.appendControl(c); wrote++; }
    fullSync();
    if (wrote === 0) break;
  }
  return rs;
}

function view(r: Replica) {
  const s = r.ws.state;
  return {
    members: [...s.members.entries()].map(([k, m]) => `${k.slice(0, 8)}:${m.role}`).sort(),
    epoch: s.currentEpoch,
    epochs: [...s.epochs.keys()].sort(),
    relays: [...s.relays.values()].map((x) => `${x.keyHex.slice(0, 8)}:${x.addrs.join(',')}:${x.by.slice(0, 8)}`).sort(),
    invites: [...s.invites].map(([id, key]) => `${id.slice(0, 8)}:${key.slice(0, 8)}`).sort(),
    revoked: [...s.revokedInvites].map(([id, by]) => `${id.slice(0, 8)}:${by.slice(0, 8)}`).sort(),
  };
}

export { run, view };

test('random schedules over 3-5 replicas converge on membership, roles, key epoch and tool state', { timeout: 600_000 }, () => {
  let schedules = 0;
  let withRemovals = 0;
  let withRelays = 0;
  let withRevocations = 0;
  let voidedByRevocation = 0;
  fc.assert(fc.property(
    fc.integer({ min: 3, max: 5 }).chain((n) => fc.tuple(
      fc.constant(n),
      fc.integer(),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n - 1, maxLength: n - 1 }),
      fc.array(opArb(n), { minLength: 15, maxLength: 60 }),
    )),
    ([n, seed, roles, ops]) => {
      schedules++;
      const rs = run(n, seed, roles, ops);
      const views = rs.map(view);
      // Control entries are public: every replica, members or not, computes the same membership.
      for (const v of views) assert.deepEqual(v, views[0]);
      if (rs[0].ws.state.removed.size > 0) withRemovals++;
      if (rs[0].ws.state.relays.size > 0) withRelays++;
      if (rs[0].ws.state.revokedInvites.size > 0) withRevocations++;
      if (rs[0].ws.audit().some((a) => /was revoked/.test(a.reason))) voidedByRevocation++;
      if (process.env.TRELLIS_PROP_STATS) {
        const entries = [...rs[0].ws.vector().values()].reduce((a, h) => a + h.seq, 0);
        console.log(`n=${n} ops=${ops.length} members=${rs[0].ws.state.members.size} removed=${rs[0].ws.state.removed.size} epochs=${rs[0].ws.state.epochs.size} entries=${entries} chat=${rs[0].chat.log(rs[0].ws.idHex).length} invalid=${rs[0].ws.audit().length}`);
      }
      // Members hold the current key and the same tool state.
      const members = rs.filter((r) => r.ws.isMember(r.hex));
      const current = rs[0].ws.state.currentEpoch;
      for (const r of members) assert.ok(r.ws.keyFor(current), 'every member holds the current key');
      const chats = members.map((r) => r.chat.log(r.ws.idHex).map((m) => m.id + m.text));
      for (const c of chats) assert.deepEqual(c, chats[0]);
      const texts = members.map((r) => r.docs.doc(r.ws.idHex, DOC).getText('t').toString());
      for (const t of texts) assert.equal(t, texts[0]);
      const vectors = members.map((r) => toHex(Y.encodeStateVector(r.docs.doc(r.ws.idHex, DOC))));
      for (const v of vectors) assert.equal(v, vectors[0]);
      // Removed replicas hold no key of an epoch started after their removal... at least not the
      // current one, when a rotation happened after it.
      for (const r of rs) {
        if (r.ws.isMember(r.hex) || !r.ws.state.removed.has(r.hex)) continue;
        const rec = r.ws.state.epochs.get(current);
        if (rec && !rec.recipients.has(r.hex)) assert.equal(r.ws.keyFor(current), undefined);
      }
    },
  ), {
    numRuns: 1000,
    // Fixed by default so a CI run is reproducible; TRELLIS_PROP_SEED=random explores new schedules.
    seed: process.env.TRELLIS_PROP_SEED === 'random' ? Date.now() | 0 : Number(process.env.TRELLIS_PROP_SEED ?? 20261125),
    // Schedules that once broke convergence, kept as regressions.
    examples: [
      [[3, 0, [0, 0], JSON.parse('[{"t":"remove","r":0,"target":1},{"t":"sync","a":0,"b":2},{"t":"remove","r":0,"target":2},{"t":"add","r":2,"target":1,"role":0},{"t":"doc","r":0},{"t":"rotate","r":0},{"t":"leave","r":0},{"t":"chat","r":0},{"t":"rotate","r":0},{"t":"doc","r":0}]') as Op[]]],
      [[3, 0, [0, 0], JSON.parse('[{"t":"remove","r":0,"target":2},{"t":"remove","r":2,"target":0},{"t":"sync","a":0,"b":1},{"t":"doc","r":0},{"t":"doc","r":0},{"t":"remove","r":0,"target":0},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"chat","r":1}]') as Op[]]],
      [[3, 0, [0, 1], JSON.parse('[{"t":"role","r":0,"target":1,"role":1},{"t":"remove","r":1,"target":0},{"t":"doc","r":0},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"doc","r":1},{"t":"chat","r":0},{"t":"rotate","r":0},{"t":"remove","r":1,"target":0},{"t":"add","r":0,"target":0,"role":0},{"t":"chat","r":0}]') as Op[]]],
      [[5, 0, [0, 0, 0, 0], JSON.parse('[{"t":"remove","r":0,"target":3},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"sync","a":0,"b":1},{"t":"add","r":1,"target":3,"role":0},{"t":"remove","r":0,"target":3},{"t":"remove","r":0,"target":3},{"t":"chat","r":1},{"t":"role","r":0,"target":1,"role":1}]') as Op[]]],
      [[3, 0, [0, 0], JSON.parse('[{"t":"remove","r":0,"target":2},{"t":"remove","r":1,"target":1},{"t":"sync","a":1,"b":2},{"t":"add","r":2,"target":1,"role":0},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"chat","r":0},{"t":"add","r":0,"target":2,"role":0},{"t":"doc","r":0},{"t":"doc","r":0},{"t":"add","r":0,"target":0,"role":0},{"t":"remove","r":1,"target":0},{"t":"remove","r":1,"target":0},{"t":"chat","r":0},{"t":"chat","r":0}]') as Op[]]],
    ],
  });
  assert.ok(schedules >= 1000);
  assert.ok(withRemovals > 50, `schedules with removals: ${withRemovals}`);
  assert.ok(withRelays > 50, `schedules with relays attached at the end: ${withRelays}`);
  assert.ok(withRevocations > 50, `schedules with revoked invitations: ${withRevocations}`);
  // (A revocation voiding a concurrent join needs a rare schedule here: test/core/invitations.test.ts has it.)
  if (process.env.TRELLIS_PROP_STATS) console.log(`schedules where a revocation voided a join: ${voidedByRevocation}`);
});
