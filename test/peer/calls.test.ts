// Call signalling between in-process peers on loopback libp2p: a signal reaches the member it is
// addressed to (as a 'call-signal' event), and no one else; the call a member is in shows in
// presence; bad signals are refused with one clear sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import type { PeerEvent } from '../../src/peer-api.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { waitFor } from '../helpers/replicas.ts';

const CALL = 'cd'.repeat(16);

test('call signals go to their addressee only; presence shows who is in which call', { timeout: 60_000 }, async (t) => {
  const homes: string[] = [];
  const peers: Peer[] = [];
  const events: Map<Peer, PeerEvent[]> = new Map();
  const start = async (name: string, bootstrap: string[] = []) => {
    const home = mkdtempSync(join(tmpdir(), `trellis-${name}-`));
    homes.push(home);
    createIdentity(home, name);
    const p = await Peer.start({ home, mdns: false, bootstrap, log: () => {} });
    peers.push(p);
    events.set(p, []);
    p.on((e) => events.get(p)!.push(e));
    return p;
  };
  t.after(async () => { await Promise.all(peers.map((p) => p.stop())); for (const h of homes) rmSync(h, { recursive: true, force: true }); });
  const a = await start('alice');
  const b = await start('bob', [a.status().addrs[0]]);
  const c = await start('carol', [a.status().addrs[0]]);
  const ws = await a.createWorkspace('Team');
  for (const p of [b, c]) await p.join(await a.createInvite(ws.id, { role: 'guest' }));
  await waitFor(() => [a, b, c].every((p) => p.members(ws.id).filter((m) => m.online).length === 3), 15_000, 'everyone online everywhere');
  const key = (p: Peer) => p.status().peerId && p.keyHex;

  // Alice is in a call: the others see it in presence.
  a.setPresence(ws.id, { call: CALL });
  await waitFor(() => [b, c].every((p) => p.members(ws.id).find((m) => m.key === key(a))?.call === CALL), 10_000, 'the call in alice\'s presence');
  assert.equal(a.members(ws.id).find((m) => m.key === key(a))?.call, CALL, 'and in her own');

  // Bob (a guest: calls need no write permission) offers; alice answers; carol hears nothing.
  const offer = { call: CALL, type: 'offer', sdp: 'v=0\r\n' };
  b.sendCallSignal(ws.id, key(a), offer);
  await waitFor(() => events.get(a)!.some((e) => e.type === 'call-signal'), 10_000, 'the offer at alice');
  const got = events.get(a)!.filter((e) => e.type === 'call-signal');
  assert.deepEqual(got, [{ type: 'call-signal', workspace: ws.id, from: key(b), signal: offer }]);
  const candidate = { call: CALL, type: 'ice', candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 } };
  a.sendCallSignal(ws.id, key(b), candidate);
  await waitFor(() => events.get(b)!.some((e) => e.type === 'call-signal'), 10_000, 'the candidate at bob');
  assert.deepEqual(events.get(b)!.filter((e) => e.type === 'call-signal').map((e) => e.type === 'call-signal' && e.signal), [candidate]);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(events.get(c)!.filter((e) => e.type === 'call-signal'), [], 'carol got nothing');
  assert.equal(events.get(a)!.filter((e) => e.type === 'call-signal').length, 1, 'each signal arrives once');

  // Bad signals: one sentence each, nothing sent.
  assert.throws(() => b.sendCallSignal(ws.id, key(a), { call: CALL, type: 'offer' }), /invalid call signal: an offer carries sdp/);
  assert.throws(() => b.sendCallSignal(ws.id, 'ef'.repeat(32), offer), /no member with that key/);
  assert.throws(() => b.sendCallSignal(ws.id, key(b), offer), /not to yourself/);
  assert.throws(() => b.setPresence(ws.id, { call: 'nope' }), /call must be 32 lowercase hex/);

  // Leaving the call clears it from presence.
  a.setPresence(ws.id, { call: null });
  await waitFor(() => b.members(ws.id).find((m) => m.key === key(a))?.call === undefined, 10_000, 'the call gone from alice\'s presence');
});
