// Rule 2c (PROTOCOL.md §5): an invitation admits one member, and none once revoked. Checked on the
// pure resolver with hand-built control records, so that the concurrent cases are exact: which of
// a revocation and a join comes first in T decides, on every replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MembershipResolver, parseControl, type ControlPayload, type ControlRecord } from '../../src/core/membership.ts';

const WS = 'ee'.repeat(16);
const idFor = (): string => WS;
// Keys: T orders equal clocks by author key, so the names say who sorts first.
const LOW = '11'.repeat(32); // a manager whose entries sort first
const HIGH = '99'.repeat(32); // the creator, sorts after LOW
const JOINER = '55'.repeat(32);
const OTHER = '66'.repeat(32);
const INVITE = 'ab'.repeat(32);
const box = '00'.repeat(16);

let n = 0;
function rec(author: string, seq: number, clock: number, payload: ControlPayload, vv: [string, number][] = []): ControlRecord {
  return { id: `r${n++}`, author, seq, clock, payload, vv: new Map(vv) };
}

/** HIGH creates the workspace and adds LOW as a manager; both have seen that much. */
function base(): { m: MembershipResolver; records: ControlRecord[] } {
  const m = new MembershipResolver(WS, idFor);
  const records = [
    rec(HIGH, 1, 1, { type: 'create', nonce: '00'.repeat(16), agreementKey: '01'.repeat(32), nameBox: box, memberNameBox: box, keys: { 0: box } }),
    rec(HIGH, 2, 2, { type: 'add', key: LOW, agreementKey: '02'.repeat(32), role: 'manager', nameBox: box, invite: '00'.repeat(32), keys: { 0: box } }),
  ];
  for (const r of records) m.add(r);
  return { m, records };
}

const join = (author: string, seq: number, clock: number, key: string, vv: [string, number][]): ControlRecord =>
  rec(author, seq, clock, { type: 'add', key, agreementKey: '03'.repeat(32), role: 'participant', nameBox: box, invite: INVITE, keys: {} }, vv);
const uninvite = (author: string, seq: number, clock: number, vv: [string, number][]): ControlRecord =>
  rec(author, seq, clock, { type: 'uninvite', invite: INVITE }, vv);

test('uninvite: parsed strictly; only managers may revoke; not a used or revoked invitation', () => {
  assert.deepEqual(parseControl({ type: 'uninvite', invite: INVITE }), { type: 'uninvite', invite: INVITE });
  for (const bad of [{ type: 'uninvite' }, { type: 'uninvite', invite: 'AB'.repeat(32) }, { type: 'uninvite', invite: 'ab' }, { type: 'uninvite', invite: '00'.repeat(32) }]) {
    assert.equal(parseControl(bad), 'malformed uninvite');
  }
  const { m } = base();
  const byJoiner = uninvite(JOINER, 1, 3, [[HIGH, 2]]);
  m.add(byJoiner);
  assert.equal(m.verdict(byJoiner.id), 'author is not a member');
  const used = join(HIGH, 3, 3, JOINER, [[LOW, 0]]);
  m.add(used);
  const late = uninvite(LOW, 1, 4, [[HIGH, 3]]);
  m.add(late);
  assert.equal(m.verdict(used.id), undefined);
  assert.equal(m.verdict(late.id), 'this invitation has already been used');
  // A participant may not revoke.
  const { m: m2 } = base();
  const addP = rec(HIGH, 3, 3, { type: 'add', key: OTHER, agreementKey: '04'.repeat(32), role: 'participant', nameBox: box, invite: '00'.repeat(32), keys: {} });
  m2.add(addP);
  const byParticipant = uninvite(OTHER, 1, 4, [[HIGH, 3]]);
  m2.add(byParticipant);
  assert.equal(m2.verdict(byParticipant.id), 'a participant may not revoke invitations');
  // Twice: the second is refused.
  const { m: m3 } = base();
  const once = uninvite(HIGH, 3, 3, [[LOW, 0]]);
  const twice = uninvite(LOW, 1, 4, [[HIGH, 3]]);
  m3.add(once); m3.add(twice);
  assert.equal(m3.verdict(once.id), undefined);
  assert.equal(m3.verdict(twice.id), 'this invitation is revoked already');
  assert.equal(m3.state.revokedInvites.get(INVITE), HIGH);
});

test('uninvite: a join citing a revoked invitation is void, whether or not its author saw the revocation', () => {
  // Seen: the join comes after the revocation in the author's causal past.
  const { m } = base();
  const revoke = uninvite(LOW, 1, 3, [[HIGH, 2]]);
  const seen = join(HIGH, 3, 4, JOINER, [[LOW, 1]]);
  m.add(revoke); m.add(seen);
  assert.match(m.verdict(seen.id) ?? '', /this invitation was revoked \(by 11111111\)/);
  assert.equal(m.state.members.has(JOINER), false);
  // Concurrent, the revocation first in T (same clock, LOW sorts before HIGH): void on every replica,
  // whatever order they received the two in.
  for (const order of [0, 1]) {
    const { m: r } = base();
    const rv = uninvite(LOW, 1, 3, [[HIGH, 2]]);
    const jn = join(HIGH, 3, 3, JOINER, []);
    for (const x of order === 0 ? [rv, jn] : [jn, rv]) r.add(x);
    assert.match(r.verdict(jn.id) ?? '', /was revoked/, `order ${order}`);
    assert.equal(r.verdict(rv.id), undefined);
    assert.equal(r.state.members.has(JOINER), false);
  }
});

test('uninvite: a join first in T stands; the concurrent revocation admits nothing more', () => {
  for (const order of [0, 1]) {
    const { m } = base();
    // The join by LOW sorts first (same clock); HIGH's revocation did not see it.
    const jn = join(LOW, 1, 3, JOINER, [[HIGH, 2]]);
    const rv = uninvite(HIGH, 3, 3, []);
    for (const x of order === 0 ? [rv, jn] : [jn, rv]) m.add(x);
    assert.equal(m.verdict(jn.id), undefined, `order ${order}`);
    assert.equal(m.verdict(rv.id), undefined);
    assert.equal(m.state.members.has(JOINER), true);
    // A second join with the same invitation: void (used, and revoked).
    const again = join(HIGH, 4, 4, OTHER, [[LOW, 1]]);
    m.add(again);
    assert.match(m.verdict(again.id) ?? '', /already been used/);
  }
});
