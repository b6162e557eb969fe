// TURN credentials from a relay (/trellis/turn/1.0.0): members of a workspace it serves get a
// fresh set each; anyone else is refused; answers are checked field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { Relay } from '../../src/relay.ts';
import { decodeTurnMessage, encodeTurnMessage } from '../../src/relay/turn-protocol.ts';
import { TurnClient } from '../../src/relay/turn-client.ts';
import { MAX_PER_MEMBER, TurnService } from '../../src/relay/turn-service.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { freePort } from '../helpers/daemons.ts';
import { waitFor } from '../helpers/replicas.ts';

test('TURN answers: a good offer decodes; anything odd is refused with a reason', () => {
  const offer = { urls: ['turn:127.0.0.1:3478?transport=udp'], username: '1700000000:abc', credential: 'secret', ttl: 3600 };
  assert.deepEqual(decodeTurnMessage(encodeTurnMessage(offer)), offer);
  const bad: [object, RegExp][] = [
    [{ ...offer, urls: ['http://x'] }, /urls/],
    [{ ...offer, urls: [] }, /urls/],
    [{ ...offer, username: 'has space' }, /username/],
    [{ ...offer, credential: '' }, /credential/],
    [{ ...offer, ttl: 5 }, /ttl/],
    [{ error: { code: 'forbidden', message: 'no' } }, /the relay refused: no/],
  ];
  for (const [body, why] of bad) assert.match(String(decodeTurnMessage(encodeTurnMessage(body as never))), why);
  assert.match(String(decodeTurnMessage(new Uint8Array([0, 0, 0, 9, 1]))), /malformed/);
});

test('a relay with TURN gives members credentials and refuses strangers', { timeout: 60_000 }, async (t) => {
  const homes = ['relay', 'alice', 'mallory'].map((n) => { const h = mkdtempSync(join(tmpdir(), `trellis-turn-${n}-`)); createIdentity(h, n); return h; });
  const relay = await Relay.start({ home: homes[0], turn: { port: await freePort(), host: '127.0.0.1' }, log: () => {} });
  const a = await Peer.start({ home: homes[1], mdns: false, log: () => {} });
  const m = await Peer.start({ home: homes[2], mdns: false, log: () => {} });
  t.after(async () => { await Promise.all([a.stop(), m.stop(), relay.stop()]); for (const h of homes) rmSync(h, { recursive: true, force: true }); });
  const ws = await a.createWorkspace('Team');
  await a.addRelay(ws.id, relay.status().addrs[0]);
  await waitFor(() => relay.workspaces().length === 1, 15_000, 'the relay serves the workspace');
  assert.match(relay.status().turn ?? '', /^udp 127\.0\.0\.1:\d+$/);
  const first = await a.callServers(ws.id);
  assert.equal(first.relayOnly, false);
  assert.equal(first.iceServers.length, 1);
  assert.match(first.iceServers[0].urls[0], /^turn:127\.0\.0\.1:\d+\?transport=udp$/);
  // Kept, not asked for again at once.
  assert.deepEqual(await a.callServers(ws.id), first);
  // A stranger connected to the relay gets nothing.
  const logs: string[] = [];
  const net = (m as unknown as { net: import('../../src/net/libp2p-node.ts').NetNode }).net;
  const info = await net.dial(relay.status().addrs[0]);
  assert.deepEqual(await new TurnClient(net, (l) => logs.push(l)).offers([info]), []);
  assert.match(logs.join('\n'), /the relay refused: TURN is for members of the workspaces this relay serves/);
});

test('a member asking for credentials in a loop evicts only its own', async (t) => {
  const port = await freePort();
  const turn = new TurnService({ port, host: '127.0.0.1', isMember: () => true, log: () => {} });
  await turn.start();
  t.after(() => turn.stop());
  // A second server on the same port is refused with a sentence (node-turn alone would only log it).
  const twin = new TurnService({ port, host: '127.0.0.1', isMember: () => true, log: () => {} });
  await assert.rejects(twin.start(), /the TURN port udp 127\.0\.0\.1:\d+ is in use: choose another --turn-port/);
  const other = turn.issue('bb'.repeat(32));
  const issued = Array.from({ length: MAX_PER_MEMBER + 5 }, () => turn.issue('aa'.repeat(32)));
  assert.equal(new Set(issued.map((o) => o.username)).size, issued.length, 'fresh each time');
  assert.equal(turn.liveCount('aa'.repeat(32)), MAX_PER_MEMBER);
  assert.equal(turn.liveCount('bb'.repeat(32)), 1);
  assert.equal(turn.liveCount(), MAX_PER_MEMBER + 1);
  assert.match(other.urls[0], /^turn:127\.0\.0\.1:\d+\?transport=udp$/);
});
