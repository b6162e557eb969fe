// Joins queued at a relay, in one process: the relay's JoinQueue and RelayService with real
// replicas over in-memory streams (no network). Only holders of a real invitation from a manager
// get a slot, within limits; any manager (not only the inviter) completes a queued join; an
// invitation admits one member, even when two managers complete it concurrently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { agreementKeyPair, randomBytes, signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import type { NetPeerInfo } from '../../src/net/libp2p-node.ts';
import { answerDeliveries } from '../../src/relay/join-client.ts';
import { JoinQueue, type JoinLimits, type JoinQueueOptions } from '../../src/relay/join-queue.ts';
import { parseQueueAnswer, parseQueuedRequest, signQueuedRequest, type QueueAnswer } from '../../src/relay/queued-join.ts';
import { RelayDb } from '../../src/relay/relay-db.ts';
import { RelayLinks } from '../../src/relay/relay-links.ts';
import { RelayService } from '../../src/relay/relay-service.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { FrameStream } from '../../src/sync/frame-stream.ts';
import { FrameType } from '../../src/sync/frames.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SyncSession } from '../../src/sync/session.ts';
import { ChatTool, encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { decodeInvite, encodeInvite, inviteIdOf, type DecodedInvite, type InviteRole } from '../../src/workspace/invite-code.ts';
import { admitJoiner, admitWithGrant, joinRequestFor } from '../../src/workspace/join.ts';
import { Workspace } from '../../src/workspace/workspace.ts';
import { connect, founder, member, waitFor, type TestReplica } from '../helpers/replicas.ts';

interface Joiner { name: string; signing: KeyPair; agreement: KeyPair }
type Outcome = QueueAnswer | { error: string; message: string };

const info = (key: Uint8Array): NetPeerInfo => ({ peerId: toHex(key), publicKey: key });
const joiner = (name: string): Joiner => ({ name, signing: signingKeyPair(), agreement: agreementKeyPair() });

/** A relay (service, queue and db) serving alice's workspace, where bob is a manager and pat a participant. */
async function setup(limits?: Partial<JoinLimits>) {
  const relayKey = signingKeyPair();
  const relayHex = toHex(relayKey.publicKey);
  const store = new MemoryStore();
  const logs: string[] = [];
  const verified = new Set<string>();
  const marks = { isVerified: (ws: string) => verified.has(ws), markVerified: (ws: string) => { verified.add(ws); }, forgetVerified: (ws: string) => { verified.delete(ws); } };
  const service = new RelayService({ store, marks, selfKeyHex: relayHex, quota: 1 << 30, log: (l) => logs.push(l) });
  const a = founder('alice');
  const b = member(a, 'bob', 'manager');
  const pat = member(a, 'pat', 'participant');
  a.ws.appendControl({ type: 'relay', key: relayHex, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${relayHex}`] });
  for (let i = 0; i < 5; i++) a.ws.append(EntryKind.chat, encodeChat(`history ${i}`));
  // Members' live sessions with the relay (they always open them).
  const sessions: SyncSession[] = [];
  const link = async (r: TestReplica): Promise<SyncSession> => {
    const [x, y] = memoryPair();
    const s = new SyncSession(x, { remoteKey: relayKey.publicKey, log: (l) => r.logs.push(l) });
    void s.initiate(r.ws).catch(() => {});
    service.accept(y, r.signing.publicKey);
    await s.remoteSynced;
    sessions.push(s);
    return s;
  };
  await link(a);
  await waitFor(() => service.served()[0]?.entries === a.ws.vector().get(a.ws.selfHex)!.seq, 5000, 'the relay holds alice\'s entries');
  const bobLink = await link(b);
  await link(pat);
  // Peers "connected" to the relay, and how the relay reaches them: their answerDeliveries over a memory pair.
  const connected: TestReplica[] = [];
  const net = {
    connectedPeers: () => connected.map((r) => info(r.signing.publicKey)),
    openStream: async (peerId: string) => {
      const r = connected.find((c) => toHex(c.signing.publicKey) === peerId);
      if (!r) throw new Error('not connected');
      const [x, y] = memoryPair();
      answerDeliveries(y, info(relayKey.publicKey), {
        selfHex: r.ws.selfHex, store: r.store, findWorkspace: (id) => (id === r.ws.idHex ? r.ws : undefined), isRelayOf: RelayLinks.isRelayOf, log: (l) => r.logs.push(l),
      });
      return { stream: x, remote: info(r.signing.publicKey) };
    },
  } as unknown as JoinQueueOptions['net'];
  const db = new RelayDb(':memory:');
  const queue = new JoinQueue({ db, service, net, log: (l) => logs.push(l), ...(limits ? { limits } : {}) });
  const replica = () => service.replica(a.ws.idHex)!;

  /** An invitation as Peer.createInvite makes it: recorded by its inviter, carrying the relay's address. */
  const invite = (by: TestReplica, role: InviteRole = 'participant', expires = Date.now() + 60_000): DecodedInvite => {
    const secret = randomBytes(32);
    by.store.putInvite({ id: inviteIdOf(secret), secret, workspace: by.ws.id, role, expires });
    return decodeInvite(encodeInvite({ workspace: a.ws.id, inviter: by.signing.publicKey, secret, role, expires, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${relayHex}`], workspaceName: 'Team' }, by.signing.secretKey));
  };
  const request = (inv: DecodedInvite, j: Joiner) => signQueuedRequest(joinRequestFor(inv, j), inv, j.signing);

  /** A joiner's ask over a stream whose remote is `from` (the joiner itself unless said otherwise). */
  const ask = async (req: unknown, from: Uint8Array): Promise<Outcome> => {
    const [x, y] = memoryPair();
    queue.handle(y, info(from));
    const fs = new FrameStream(x);
    await fs.send({ type: FrameType.joinRequest, body: { op: 'queue', request: req } });
    const f = (await fs.frames().next()).value!;
    if (f.type === FrameType.error) return { error: f.code, message: f.message };
    assert.equal(f.type, FrameType.joinAccept);
    return parseQueueAnswer(f.body);
  };
  const close = () => { for (const s of sessions) s.close(); queue.stop(); db.close(); };
  return { a, b, pat, service, db, queue, replica, connected, logs, invite, request, ask, link, close, relayHex, bobLink };
}

/** A joiner's replica once it is added: it syncs the workspace from the relay. */
function replicaOf(j: Joiner, id: Uint8Array): TestReplica {
  const store = new MemoryStore();
  store.addWorkspace(id);
  const chat = new ChatTool();
  const logs: string[] = [];
  const ctx = { store, signing: j.signing, agreement: j.agreement, handlers: new Map([[chat.kind, chat]]), log: (l: string) => { logs.push(l); }, saveKey: () => {} };
  return { name: j.name, signing: j.signing, agreement: j.agreement, store, chat, logs, ws: new Workspace(ctx, id, new Map()) };
}

test('only holders of a real, unused invitation from a manager get a slot at the relay', async (t) => {
  const r = await setup();
  t.after(r.close);
  const carol = joiner('carol');
  const inv = r.invite(r.a);
  assert.deepEqual(await r.ask(r.request(inv, carol), carol.signing.publicKey), { state: 'queued' });
  const refused = async (req: unknown, from: Uint8Array, code: string, message: RegExp) => {
    const out = await r.ask(req, from);
    assert.ok('error' in out, JSON.stringify(out));
    assert.equal(out.error, code, out.message);
    assert.match(out.message, message);
  };
  const dave = joiner('dave');
  // Asked by someone else than its joiner (a relay hands its answer to the connection's peer).
  await refused(r.request(r.invite(r.a), dave), signingKeyPair().publicKey, 'forbidden', /must come from its joiner/);
  // A participant's "invitation" (signed, but pat may not invite), and a stranger's.
  await refused(r.request(r.invite(r.pat), dave), dave.signing.publicKey, 'forbidden', /inviter may not invite to that workspace/);
  await refused(r.request(r.invite(member(founder('x'), 'y')), dave), dave.signing.publicKey, 'forbidden', /may not invite/);
  // Expired.
  await refused(r.request(r.invite(r.a, 'participant', Date.now() - 1000), dave), dave.signing.publicKey, 'forbidden', /expired/);
  // Someone who saw a ticket (as a relay or a manager does) but lacks its secret.
  const real = r.invite(r.a);
  await refused(signQueuedRequest(joinRequestFor(real, dave), { ...real, secret: randomBytes(32) }, dave.signing), dave.signing.publicKey, 'invalid', /did not prove that it holds the invitation/);
  // Not JSON of a request at all.
  await refused({ workspace: r.a.ws.idHex }, dave.signing.publicKey, 'invalid', /malformed/);
  // A workspace this relay does not serve.
  const elsewhere = founder('zed');
  const other = decodeInvite(encodeInvite({ workspace: elsewhere.ws.id, inviter: elsewhere.signing.publicKey, secret: randomBytes(32), role: 'guest', expires: Date.now() + 60_000, addrs: [], workspaceName: 'Z' }, elsewhere.signing.secretKey));
  await refused(r.request(other, dave), dave.signing.publicKey, 'not-found', /does not serve/);
  assert.equal(r.db.countJoins(r.a.ws.idHex), 1, 'nothing but the real request was kept');
  // A code whose inviter lost the manager role lapses at the relay: the request is refused for good.
  r.a.ws.appendControl({ type: 'role', key: r.b.ws.selfHex, role: 'participant' });
  const byBob = r.invite(r.b);
  await waitFor(() => r.replica().state.members.get(r.b.ws.selfHex)?.role === 'participant', 5000, 'the relay sees bob demoted');
  await refused(r.request(byBob, dave), dave.signing.publicKey, 'forbidden', /may not invite/);
});

test('queued-join limits: per invitation, per joiner, per workspace, and asks per minute', async (t) => {
  const r = await setup({ perWorkspace: 4, perInvite: 2, perJoiner: 2 });
  t.after(r.close);
  const [carol, dave, erin, frank] = ['carol', 'dave', 'erin', 'frank'].map(joiner);
  const ask = (inv: DecodedInvite, j: Joiner) => r.ask(r.request(inv, j), j.signing.publicKey);
  const one = r.invite(r.a);
  assert.deepEqual(await ask(one, carol), { state: 'queued' });
  assert.deepEqual(await ask(one, dave), { state: 'queued' }, 'a second joiner with the same code (a leaked copy) still fits');
  assert.deepEqual(await ask(one, erin), { error: 'unavailable', message: 'other join requests with this invitation are waiting at this relay; try again later' });
  assert.deepEqual(await ask(one, carol), { state: 'queued' }, 'asking again is not a new request');
  assert.deepEqual(await ask(r.invite(r.a), carol), { state: 'queued' });
  assert.deepEqual(await ask(r.invite(r.a), carol), { error: 'unavailable', message: 'this relay holds 2 join requests of yours already; try again once they are answered' });
  assert.deepEqual(await ask(r.invite(r.a), frank), { state: 'queued' });
  assert.deepEqual(await ask(r.invite(r.a), erin), { error: 'unavailable', message: 'this relay holds too many join requests for that workspace; try again later' });
  assert.equal(r.db.countJoins(r.a.ws.idHex), 4);
  // Asks are counted per peer before any signature is checked.
  const chatty = new JoinQueue({ db: r.db, service: r.service, net: { connectedPeers: () => [], openStream: () => Promise.reject(new Error('no')) } as unknown as JoinQueueOptions['net'], log: () => {}, limits: { asksPerMinute: 3 } });
  t.after(() => chatty.stop());
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = memoryPair();
    chatty.handle(y, info(carol.signing.publicKey));
    const fs = new FrameStream(x);
    await fs.send({ type: FrameType.joinRequest, body: { op: 'queue', request: r.request(one, carol) } });
    const f = (await fs.frames().next()).value!;
    outcomes.push(f.type === FrameType.error ? { error: f.code, message: f.message } : parseQueueAnswer(f.body));
  }
  assert.deepEqual(outcomes.slice(0, 3), [{ state: 'queued' }, { state: 'queued' }, { state: 'queued' }]);
  assert.deepEqual(outcomes[3], { error: 'unavailable', message: 'too many join requests from this peer: at most 3 a minute; try again later' });
});

test('any manager completes a join queued while the inviter is offline; the code then admits nobody else', async (t) => {
  const r = await setup();
  t.after(r.close);
  const carol = joiner('carol');
  const inv = r.invite(r.a); // alice's invitation; alice is not connected to the relay
  r.connected.push(r.b);
  assert.deepEqual(await r.ask(r.request(inv, carol), carol.signing.publicKey), { state: 'queued' });
  // The relay passed it on to bob (a manager, not the inviter); bob's `add` reaches the relay.
  await waitFor(() => r.replica().isMember(toHex(carol.signing.publicKey)), 5000, 'bob added carol');
  assert.ok(r.b.logs.some((l) => /join: added member .* invited by /.test(l)), r.b.logs.join('\n'));
  const added = r.b.ws.state.members.get(toHex(carol.signing.publicKey));
  assert.equal(added?.role, 'participant', 'with the role the inviter granted');
  assert.equal(r.b.ws.state.invites.get(toHex(inviteIdOf(inv.secret))), toHex(carol.signing.publicKey));
  assert.deepEqual(await r.ask(r.request(inv, carol), carol.signing.publicKey), { state: 'accepted' });
  // Carol syncs from the relay alone: the history and her keys come with it.
  const c = replicaOf(carol, r.a.ws.id);
  await r.link(c);
  assert.deepEqual(c.chat.log(c.ws.idHex).map((m) => m.text), [0, 1, 2, 3, 4].map((i) => `history ${i}`));
  assert.equal(c.ws.member(c.ws.selfHex)?.role, 'participant');
  // The same code again, by someone else: the relay refuses it (it sees the `add` citing it)...
  const dave = joiner('dave');
  const again = await r.ask(r.request(inv, dave), dave.signing.publicKey);
  assert.deepEqual(again, { error: 'forbidden', message: 'this invitation has already been used' });
  // ...and so does the inviter, whose own record of it was never marked: the workspace's is shared.
  await waitFor(() => r.a.ws.isMember(toHex(carol.signing.publicKey)), 5000, 'alice sees carol');
  const direct = parseQueuedRequest(r.request(inv, dave)).request;
  assert.throws(() => admitJoiner(direct, dave.signing.publicKey, r.a.store, () => r.a.ws), /already been used/);
  assert.ok(!r.a.ws.isMember(toHex(dave.signing.publicKey)));
});

test('a revoked invitation: the relay refuses to queue it, and neither the inviter nor another manager completes it', async (t) => {
  const r = await setup();
  t.after(r.close);
  const carol = joiner('carol');
  const inv = r.invite(r.a); // alice's invitation
  const id = toHex(inviteIdOf(inv.secret));
  // Bob, another manager, revokes it (he knows its id, e.g. from alice); the relay learns it.
  r.b.ws.appendControl({ type: 'uninvite', invite: id });
  await waitFor(() => r.replica().state.revokedInvites.has(id), 5000, 'the relay sees the revocation');
  assert.deepEqual(await r.ask(r.request(inv, carol), carol.signing.publicKey), { error: 'forbidden', message: 'this invitation was revoked by a manager of the workspace' });
  assert.equal(r.db.queuedJoins(r.a.ws.idHex, 10).length, 0, 'nothing queued');
  const req = parseQueuedRequest(r.request(inv, carol));
  assert.throws(() => admitWithGrant(req.request, req.grant, () => r.b.ws), /revoked/);
  await waitFor(() => r.a.ws.state.revokedInvites.has(id), 5000, 'alice sees the revocation');
  assert.throws(() => admitJoiner(req.request, carol.signing.publicKey, r.a.store, () => r.a.ws), /revoked/);
  assert.ok(!r.a.ws.isMember(toHex(carol.signing.publicKey)));
});

test('a refusal by one manager for lack of knowledge is not final; device invitations go only to their inviter', async (t) => {
  const r = await setup();
  t.after(r.close);
  // Alice's device invitation: bob (a manager) may not add alice's devices; he is not asked.
  const laptop = joiner('laptop');
  const dev = r.invite(r.a, 'device');
  r.connected.push(r.b);
  assert.deepEqual(await r.ask(r.request(dev, laptop), laptop.signing.publicKey), { state: 'queued' });
  await new Promise((res) => setTimeout(res, 100));
  assert.ok(!r.b.logs.some((l) => /join:/.test(l)), 'bob was not asked');
  assert.equal(r.db.queuedJoins(r.a.ws.idHex, 10).length, 1);
  // Alice connects: she completes it with a `device` entry.
  r.connected.push(r.a);
  await r.queue.deliverTo({ peerId: toHex(r.a.signing.publicKey), publicKey: r.a.signing.publicKey });
  await waitFor(() => r.replica().isMember(toHex(laptop.signing.publicKey)), 5000, 'alice added her laptop');
  assert.equal(r.replica().state.members.get(toHex(laptop.signing.publicKey))?.owner, r.a.ws.selfHex);
  // A manager who cannot tell whether the inviter may invite answers `unavailable`: the request
  // stays queued for another manager (or a later try) instead of being refused for good.
  r.bobLink.close(); // bob misses what follows
  r.a.ws.appendControl({ type: 'role', key: r.pat.ws.selfHex, role: 'manager' });
  await waitFor(() => r.replica().state.members.get(r.pat.ws.selfHex)?.role === 'manager', 5000, 'the relay sees pat promoted');
  const dave = joiner('dave');
  const byPat = r.invite(r.pat);
  r.connected.splice(0, r.connected.length, r.b);
  assert.deepEqual(await r.ask(r.request(byPat, dave), dave.signing.publicKey), { state: 'queued' });
  await waitFor(() => r.logs.some((l) => /could not complete .*'s join request \(the inviter is not a manager of this workspace as far as this peer knows\); it stays queued/.test(l)), 5000, 'bob\'s answer');
  assert.equal(r.db.getJoin(r.a.ws.idHex, toHex(dave.signing.publicKey), toHex(inviteIdOf(byPat.secret)))?.state, 'queued');
  assert.deepEqual(await r.ask(r.request(byPat, dave), dave.signing.publicKey), { state: 'queued' });
  // A peer that does not hold the workspace says so, again not for good.
  const grant = parseQueuedRequest(r.request(byPat, dave));
  assert.throws(() => admitWithGrant(grant.request, grant.grant, () => undefined), (e: Error & { code?: string }) => e.code === 'not-found');
});

test('two managers complete one invitation concurrently: the first in T wins on every replica, the relay too', async (t) => {
  const r = await setup();
  t.after(r.close);
  const carol = joiner('carol');
  const dave = joiner('dave');
  const inv = r.invite(r.a);
  // Partitioned: alice admits carol directly; bob admits dave from a request queued elsewhere.
  const forCarol = parseQueuedRequest(r.request(inv, carol)).request;
  admitJoiner(forCarol, carol.signing.publicKey, r.a.store, () => r.a.ws);
  const forDave = parseQueuedRequest(r.request(inv, dave));
  admitWithGrant(forDave.request, forDave.grant, () => r.b.ws);
  const carolHex = toHex(carol.signing.publicKey);
  const daveHex = toHex(dave.signing.publicKey);
  assert.ok(r.a.ws.isMember(carolHex) && r.b.ws.isMember(daveHex));
  const l = connect(r.a, r.b);
  await waitFor(() => r.a.ws.vector().size === r.b.ws.vector().size && [...r.a.ws.vector()].every(([k, h]) => r.b.ws.vector().get(k)?.seq === h.seq), 5000, 'alice and bob converge');
  l.close();
  const verdict = (members: (k: string) => boolean) => [members(carolHex), members(daveHex)];
  const onA = verdict((k) => r.a.ws.isMember(k));
  assert.equal(onA.filter(Boolean).length, 1, 'one invitation, one member');
  assert.deepEqual(verdict((k) => r.b.ws.isMember(k)), onA);
  await waitFor(() => verdict((k) => r.replica().isMember(k)).filter(Boolean).length === 1, 5000, 'the relay sees both adds');
  assert.deepEqual(verdict((k) => r.replica().isMember(k)), onA);
  const loser = onA[0] ? daveHex : carolHex;
  assert.ok(r.a.ws.audit().some((x) => /invitation has already been used/.test(x.reason)), JSON.stringify(r.a.ws.audit()));
  assert.ok(!r.b.ws.isMember(loser));
});
