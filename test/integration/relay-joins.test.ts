// Joins queued at a relay, end to end (real daemons and a real relay as child processes on
// 127.0.0.1, driven by the CLI): the inviter is offline, another manager completes the join, and
// the code then admits nobody else, neither through the relay nor directly at the inviter. Then
// what the relay refuses to queue, asked by a client of our own over real libp2p.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreementKeyPair, randomBytes, signingKeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode } from '../../src/net/libp2p-node.ts';
import { askRelay } from '../../src/relay/join-client.ts';
import { signQueuedRequest } from '../../src/relay/queued-join.ts';
import { decodeInvite, encodeInvite } from '../../src/workspace/invite-code.ts';
import { joinRequestFor } from '../../src/workspace/join.ts';
import { loadIdentity } from '../../src/store/identity-file.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { apiCall, RelayDaemon } from '../helpers/relays.ts';

interface Msg { authorName: string; text: string }
interface Member { name: string; key: string; role: string }

test('a join queued while the inviter is offline is completed by another manager; the code cannot be used again', { timeout: 240_000 }, async (t) => {
  const relay = await RelayDaemon.create();
  await relay.start();
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  const c = await Daemon.create({ name: 'carol' });
  const d = await Daemon.create({ name: 'dave' });
  t.after(async () => { await Promise.all([a.destroy(), b.destroy(), c.destroy(), d.destroy(), relay.destroy()]); });
  await Promise.all([a.start(), b.start()]);

  // Alice makes Bob a manager, attaches the relay and writes some history.
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  await a.json('relay', 'add', 'Team', relay.addr);
  await b.json('join', (await a.json<{ code: string }>('invite', 'Team', '--role', 'manager')).code);
  for (let i = 0; i < 20; i++) await apiCall(a.home, 'POST', `/api/workspaces/${id}/chat`, { text: `history ${i}` });
  // Alice invites Carol; the code names the relay. Everything Alice wrote is at the relay.
  const { code } = await a.json<{ code: string }>('invite', 'Team');
  assert.ok(decodeInvite(code).addrs.some((x) => x.endsWith(relay.peerId)), 'the code carries the relay\'s address');
  await eventually('the relay holds the workspace with two members and the history', () => relay.served(),
    (w) => w[0]?.members === 2 && w[0].entries >= 23, 30_000);
  await Promise.all([a.stop(), b.stop()]);

  // Carol joins while neither manager is online: queued.
  await c.start();
  const queued = await c.json<{ id: string; pending: boolean }>('join', code, '--no-wait');
  assert.deepEqual([queued.id, queued.pending], [id, true]);

  // Bob (a manager, not the inviter) comes online: the relay passes the request to him, he adds Carol.
  await b.start();
  await eventually('carol joined through bob', () => c.json<{ id: string }[]>('workspace', 'list'), (l) => l.some((w) => w.id === id), 60_000);
  assert.match(b.output, /join: added member .* \(request queued at relay .*, invited by .*\)/);
  const log = await eventually('carol has the history', () => c.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 20, 30_000);
  assert.deepEqual(log.map((m) => [m.authorName, m.text]), Array.from({ length: 20 }, (_, i) => ['alice', `history ${i}`]));
  const members = await c.json<Member[]>('members', 'Team');
  assert.deepEqual(members.map((m) => [m.name, m.role]).sort(), [['alice', 'manager'], ['bob', 'manager'], ['carol', 'participant']]);
  // Carol writes; Bob reads it (through the relay or directly).
  assert.equal((await c.cli('chat', 'send', 'Team', 'hello from carol')).code, 0);
  await eventually('bob reads carol', () => b.json<Msg[]>('chat', 'log', 'Team'), (l) => l.at(-1)?.text === 'hello from carol', 30_000);
  await Promise.all([b.stop(), c.stop()]);

  // Dave tries the same code while Alice is offline: the relay knows it was used.
  await d.start();
  const viaRelay = await d.cli('join', code);
  assert.equal(viaRelay.code, 3, viaRelay.stderr);
  assert.match(viaRelay.stderr, /^trellis: .*this invitation has already been used\n$/);
  // Alice comes back: her own record of the code was never marked used, yet she refuses it too.
  await a.start();
  await eventually('alice learns that bob added carol', () => a.json<Member[]>('members', 'Team'), (m) => m.length === 3, 30_000);
  const direct = await d.cli('join', code);
  assert.equal(direct.code, 3, direct.stderr);
  assert.match(direct.stderr, /already been used/);
  assert.match(a.output, /join: refused .*already been used/);
  assert.equal((await a.json<Member[]>('members', 'Team')).length, 3);
  assert.equal((await d.json<{ id: string }[]>('workspace', 'list')).length, 0);
});

test('the relay queues only requests with a real invitation from a manager, within limits', { timeout: 120_000 }, async (t) => {
  const relay = await RelayDaemon.create();
  await relay.start();
  const a = await Daemon.create({ name: 'alice' });
  const p = await Daemon.create({ name: 'pat' });
  await Promise.all([a.start(), p.start()]);
  const net = await createNetNode({ signingSecretKey: signingKeyPair().secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  const nodes = [net];
  t.after(async () => { await Promise.all(nodes.map((n) => n.stop())); await Promise.all([a.destroy(), p.destroy(), relay.destroy()]); });
  await a.json<{ id: string }>('workspace', 'create', 'Team');
  await a.json('relay', 'add', 'Team', relay.addr);
  await p.json('join', (await a.json<{ code: string }>('invite', 'Team')).code);
  await eventually('the relay knows both members', () => relay.served(), (w) => w[0]?.members === 2, 30_000);

  // Each joiner is a libp2p node of its own, as a relay only answers a request's own joiner.
  const joinerNode = async () => {
    const signing = signingKeyPair();
    const n = await createNetNode({ signingSecretKey: signing.secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
    nodes.push(n);
    return { n, me: { signing, agreement: agreementKeyPair(), name: 'joiner' } };
  };
  const askWith = async (code: string, patch?: (inv: ReturnType<typeof decodeInvite>) => ReturnType<typeof decodeInvite>) => {
    const { n, me } = await joinerNode();
    const inv = decodeInvite(code);
    const req = signQueuedRequest(joinRequestFor(inv, me), patch ? patch(inv) : inv, me.signing);
    // libp2p throttles new inbound connections per address (all of ours come from 127.0.0.1): retry those.
    for (let attempt = 0; ; attempt++) {
      const out = await askRelay(n, relay.addr, req).then((ans) => ans.state, (err: Error) => err.message);
      if (!out.startsWith('net: ') || attempt >= 10) return out;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  // Codes made while alice is online; then both members go: nobody completes the requests, they stay queued.
  const good = (await a.json<{ code: string }>('invite', 'Team')).code;
  const other = (await a.json<{ code: string }>('invite', 'Team')).code;
  const short = (await a.json<{ code: string }>('invite', 'Team', '--expires', '1s')).code;
  const patSigning = loadIdentity(p.home).signing;
  await Promise.all([a.stop(), p.stop()]);

  assert.equal(await askWith(good), 'queued');
  // Without the secret (someone who saw the ticket): refused.
  assert.match(await askWith(good, (inv) => ({ ...inv, secret: randomBytes(32) })), /the relay refused: the joiner did not prove that it holds the invitation/);
  // A participant cannot invite: a code pat signs with his own key is refused, as is a stranger's.
  const forged = (inviter: { publicKey: Uint8Array; secretKey: Uint8Array }) => encodeInvite({ ...decodeInvite(good), inviter: inviter.publicKey, secret: randomBytes(32) }, inviter.secretKey);
  assert.match(await askWith(forged(patSigning)), /the relay refused: the inviter may not invite to that workspace/);
  assert.match(await askWith(forged(signingKeyPair())), /the relay refused: the inviter may not invite to that workspace/);
  // Expired.
  await new Promise((r) => setTimeout(r, 1200));
  assert.match(await askWith(short), /the relay refused: this invitation expired/);
  // One invitation holds at most two slots.
  assert.equal(await askWith(good), 'queued');
  assert.match(await askWith(good), /the relay refused: other join requests with this invitation are waiting/);
  // One peer may not ask more than 30 times a minute.
  const { n, me } = await joinerNode();
  const inv = decodeInvite(other);
  const req = signQueuedRequest(joinRequestFor(inv, me), inv, me.signing);
  const answers: string[] = [];
  for (let i = 0; i < 31; i++) answers.push(await askRelay(n, relay.addr, req).then((x) => x.state, (err: Error) => err.message));
  assert.deepEqual(answers.slice(0, 30), Array(30).fill('queued'));
  assert.match(answers[30], /the relay refused: too many join requests from this peer/);
});
