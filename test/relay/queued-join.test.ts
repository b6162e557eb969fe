// Queued join requests: signed by the joiner, every field checked; the relay's bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreementKeyPair, randomBytes, signingKeyPair } from '../../src/crypto/sodium.ts';
import { parseDeliveryResults, parseQueueAnswer, parseQueuedRequest, signQueuedRequest } from '../../src/relay/queued-join.ts';
import { RelayDb } from '../../src/relay/relay-db.ts';
import { splitInviteAddrs } from '../../src/relay/relay-joins.ts';
import { peerIdOfPublicKey } from '../../src/net/libp2p-node.ts';
import type { Invite } from '../../src/workspace/invite-code.ts';
import { joinRequestFor } from '../../src/workspace/join.ts';

function invite(): Invite {
  return { workspace: randomBytes(16), inviter: signingKeyPair().publicKey, secret: randomBytes(32), role: 'participant', expires: Date.now() + 60_000, addrs: [], workspaceName: 'W' };
}

test('a queued request is signed by its joiner; any change to it is refused', () => {
  const me = { signing: signingKeyPair(), agreement: agreementKeyPair(), name: 'bob' };
  const inv = invite();
  const req = signQueuedRequest(joinRequestFor(inv, me), inv, me.signing);
  assert.deepEqual(parseQueuedRequest(JSON.parse(JSON.stringify(req))), req);
  for (const [field, value] of [['name', 'mallory'], ['inviter', '00'.repeat(32)], ['expires', req.expires + 1], ['agreementKey', 'ab'.repeat(32)]] as const) {
    assert.throws(() => parseQueuedRequest({ ...req, [field]: value }), /not signed by its joiner/, field);
  }
  for (const bad of [null, 7, {}, { ...req, signature: 'zz' }, { ...req, expires: -1 }, { ...req, joiner: 'ab' }, { ...req, name: 'x'.repeat(500) }]) {
    assert.throws(() => parseQueuedRequest(bad), /malformed|name/);
  }
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
  assert.equal(db.countJoins('w'), 1);
  assert.equal(db.joinsFor('w', 'm', 10)[0].request, '{"again":1}');
  db.refuseJoin('w', 'j', 'i', 'this invitation has already been used');
  assert.deepEqual(db.joinsFor('w', 'm', 10), []);
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
