// Queued join requests: signed by the joiner, carrying the inviter's ticket and the joiner's proof
// that it holds the invitation; every field checked; the relay's bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBase64Url, toHex, utf8 } from '../../src/core/bytes.ts';
import { agreementKeyPair, randomBytes, sign, signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import { parseDeliveryResults, parseQueueAnswer, parseQueuedRequest, signQueuedRequest, type QueuedJoinRequest } from '../../src/relay/queued-join.ts';
import { RelayDb } from '../../src/relay/relay-db.ts';
import { splitInviteAddrs } from '../../src/relay/relay-joins.ts';
import { peerIdOfPublicKey } from '../../src/net/libp2p-node.ts';
import { decodeInvite, encodeInvite, inviteIdOf, type DecodedInvite, type InviteRole } from '../../src/workspace/invite-code.ts';
import { joinRequestFor } from '../../src/workspace/join.ts';

const INVITER = signingKeyPair();

function invite(role: InviteRole = 'participant', inviter = INVITER, addrs: string[] = []): DecodedInvite {
  return decodeInvite(encodeInvite({ workspace: randomBytes(16), inviter: inviter.publicKey, secret: randomBytes(32), role, expires: Date.now() + 60_000, addrs, workspaceName: 'W' }, inviter.secretKey));
}

test('a queued request is signed by its joiner; any change to it is refused', () => {
  const me = { signing: signingKeyPair(), agreement: agreementKeyPair(), name: 'bob' };
  const inv = invite();
  const req = signQueuedRequest(joinRequestFor(inv, me), inv, me.signing);
  const checked = parseQueuedRequest(JSON.parse(JSON.stringify(req)));
  assert.deepEqual(checked.request, req);
  assert.deepEqual([checked.grant.role, checked.grant.expires, toHex(checked.grant.inviteKey)], ['participant', inv.expires, toHex(inviteIdOf(inv.secret))]);
  for (const [field, value] of [['name', 'mallory'], ['inviter', '00'.repeat(32)], ['expires', req.expires + 1], ['agreementKey', 'ab'.repeat(32)], ['ticket', toHex(invite().ticket)]] as const) {
    assert.throws(() => parseQueuedRequest({ ...req, [field]: value }), /not signed by its joiner/, field);
  }
  for (const bad of [null, 7, {}, { ...req, signature: 'zz' }, { ...req, expires: -1 }, { ...req, joiner: 'ab' }, { ...req, name: 'x'.repeat(500) }, { ...req, ticket: 'ab' }, { ...req, use: undefined }]) {
    assert.throws(() => parseQueuedRequest(bad), /malformed|name/);
  }
});

/** A request changed by `change`, then signed again by its joiner (the wire format of PROTOCOL.md §9). */
function resigned(inv: DecodedInvite, me: { signing: KeyPair; agreement: KeyPair; name: string }, change: (r: QueuedJoinRequest) => void): unknown {
  const r = signQueuedRequest(joinRequestFor(inv, me), inv, me.signing);
  change(r);
  const signed = 'trellis queued join v2\n' + JSON.stringify([r.workspace, r.invite, r.proof, r.name, r.agreementKey, r.joiner, r.inviter, r.expires, r.ticket, r.use]);
  return { ...r, signature: toHex(sign(utf8.encode(signed), me.signing.secretKey)) };
}

test('a queued request carries a ticket its inviter signed and proof that the joiner holds the secret', () => {
  const me = { signing: signingKeyPair(), agreement: agreementKeyPair(), name: 'bob' };
  const inv = invite();
  assert.ok(parseQueuedRequest(resigned(inv, me, () => {})), 'the helper signs as the joiner does');
  // The ticket must say what the request says, and be the inviter's.
  const other = invite();
  assert.throws(() => parseQueuedRequest(resigned(inv, me, (r) => { r.ticket = toHex(other.ticket); })), /does not match its invitation ticket/);
  const tampered = Uint8Array.from(inv.ticket);
  tampered[81] = 0; // participant -> manager
  assert.throws(() => parseQueuedRequest(resigned(inv, me, (r) => { r.ticket = toHex(tampered); })), /not signed by its inviter/);
  // Someone who saw the ticket (a relay, a manager) but lacks the secret cannot use it.
  const thief = { ...inv, secret: randomBytes(32) };
  const stolen = signQueuedRequest(joinRequestFor(inv, me), thief, me.signing);
  assert.throws(() => parseQueuedRequest(stolen), /did not prove that it holds the invitation/);
  // The proof is bound to the joiner's keys: it cannot be moved to another joiner.
  const mallory = { signing: signingKeyPair(), agreement: agreementKeyPair(), name: 'mallory' };
  const moved = resigned(inv, mallory, (r) => { r.use = signQueuedRequest(joinRequestFor(inv, me), inv, me.signing).use; });
  assert.throws(() => parseQueuedRequest(moved), /did not prove/);
});

test('invitation codes: the signed grant, the id is the invite key, older codes are told apart', () => {
  const inv = invite('manager', INVITER, ['/ip4/127.0.0.1/tcp/1']);
  assert.equal(inv.role, 'manager');
  assert.equal(toHex(inv.ticket.subarray(49, 81)), toHex(inviteIdOf(inv.secret)));
  const long = decodeInvite(encodeInvite({ ...inv, workspaceName: 'é'.repeat(200) }, INVITER.secretKey));
  assert.ok(utf8.encode(long.workspaceName).byteLength <= 255, 'a long name is cut on a character boundary and still verifies');
  const v1 = new Uint8Array(200);
  v1[0] = 1;
  assert.throws(() => decodeInvite('trellis1-' + toBase64Url(v1)), /made by an older Trellis/);
});

test('answers and delivery results are validated', () => {
  assert.deepEqual(parseQueueAnswer({ state: 'queued' }), { state: 'queued' });
  assert.deepEqual(parseQueueAnswer({ state: 'refused', reason: 'used' }), { state: 'refused', reason: 'used' });
  assert.throws(() => parseQueueAnswer({ state: 'maybe' }), /malformed/);
  assert.throws(() => parseQueueAnswer({ state: 'refused', reason: 'x'.repeat(2000) }), /malformed/);
  const ok = { joiner: 'ab'.repeat(32), invite: 'cd'.repeat(32), ok: true };
  assert.deepEqual(parseDeliveryResults({ results: [ok] }, 1), [ok]);
  assert.throws(() => parseDeliveryResults({ results: [ok, ok] }, 1), /malformed/);
  assert.throws(() => parseDeliveryResults({ results: [{ ...ok, ok: false }] }, 1), /malformed/);
});

test('invitation addresses: the inviter\'s own (even through a relay circuit) and the relays\'', () => {
  const inv = invite();
  const me = peerIdOfPublicKey(inv.inviter);
  const relay = peerIdOfPublicKey(signingKeyPair().publicKey);
  inv.addrs = [`/ip4/127.0.0.1/tcp/1/p2p/${me}`, `/ip4/127.0.0.1/tcp/2/p2p/${relay}/p2p-circuit/p2p/${me}`, `/ip4/127.0.0.1/tcp/2/p2p/${relay}`];
  assert.deepEqual(splitInviteAddrs(inv), { inviter: inv.addrs.slice(0, 2), relays: inv.addrs.slice(2) });
});

test('the relay keeps queued requests until refused, answered or expired', () => {
  const db = new RelayDb(':memory:');
  const j = { workspace: 'w', joiner: 'j', invite: 'i', inviter: 'm', request: '{}', created: Date.now(), expires: Date.now() + 60_000 };
  db.putJoin(j);
  db.putJoin({ ...j, request: '{"again":1}' });
  db.putJoin({ ...j, joiner: 'k' });
  db.putJoin({ ...j, workspace: 'v' });
  assert.deepEqual([db.countJoins('w'), db.countInviteJoins('w', 'i'), db.countJoinerJoins('j')], [2, 2, 2]);
  assert.equal(db.queuedJoins('w', 10).find((x) => x.joiner === 'j')?.request, '{"again":1}');
  db.refuseJoin('w', 'j', 'i', 'this invitation has already been used');
  db.deleteJoin('w', 'k', 'i');
  db.deleteJoin('v', 'j', 'i');
  assert.deepEqual(db.queuedJoins('w', 10), []);
  assert.equal(db.countJoins('w'), 0, 'refused requests leave room for others');
  db.putJoin({ ...j, request: '{"after refusal":1}' });
  assert.equal(db.getJoin('w', 'j', 'i')?.state, 'refused', 'a refused request stays refused');
  db.putJoin({ ...j, invite: 'old', expires: Date.now() - 1 });
  db.expireJoins();
  assert.equal(db.getJoin('w', 'j', 'old'), undefined);
  assert.ok(!db.isVerified('w'));
  db.markVerified('w');
  assert.ok(db.isVerified('w'));
  db.close();
});
