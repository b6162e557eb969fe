// Relays that fail (real daemons on 127.0.0.1): with one of two relays stopped, members catch up
// through the other; a relay killed with SIGKILL in the middle of a transfer restarts with
// everything it had stored, and the members resume where they stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { apiCall, RelayDaemon, throttledProxy } from '../helpers/relays.ts';

interface Msg { text: string }

/** Alice's workspace "Team" with Bob as member and the given relay addresses attached; both then stop. */
async function team(a: Daemon, b: Daemon, relayAddrs: string[]): Promise<string> {
  await Promise.all([a.start(), b.start()]);
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  for (const addr of relayAddrs) await a.json('relay', 'add', 'Team', addr);
  await b.json('join', (await a.json<{ code: string }>('invite', 'Team')).code);
  await b.stop();
  return id;
}

test('two relays attached, one stopped: members still catch up through the other', { timeout: 120_000 }, async (t) => {
  const [r1, r2] = await Promise.all([RelayDaemon.create(), RelayDaemon.create()]);
  await Promise.all([r1.start(), r2.start()]);
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  t.after(async () => { await Promise.all([a.destroy(), b.destroy(), r1.destroy(), r2.destroy()]); });
  const id = await team(a, b, [r1.addr, r2.addr]);
  await eventually('both relays serve it', async () => [await r1.served(), await r2.served()], ([x, y]) => x.length === 1 && y.length === 1, 20_000);
  await r1.stop();
  for (let i = 0; i < 100; i++) await apiCall(a.home, 'POST', `/api/workspaces/${id}/chat`, { text: `while r1 is down ${i}` });
  await eventually('r2 holds them', () => r2.served(), (w) => w[0].entries >= 104, 20_000);
  const relays = await a.json<{ key: string; connected: boolean }[]>('relay', 'list', 'Team');
  assert.deepEqual(relays.map((r) => r.connected).sort(), [false, true]);
  await a.stop();
  await b.start();
  const log = await eventually('bob catches up through r2 alone', () => b.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 100, 30_000);
  assert.equal(log[99].text, 'while r1 is down 99');
  // Only managers attach and detach relays.
  const refused = await b.cli('relay', 'remove', 'Team', r1.addr);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /participant may not detach relays/);
});

test('a relay killed with SIGKILL mid-transfer restarts with all it stored; members resume', { timeout: 150_000 }, async (t) => {
  const relay = await RelayDaemon.create();
  await relay.start();
  // Alice reaches the relay through a slow link, so that her catch-up lasts a few seconds.
  const slow = await throttledProxy(relay.port, 150_000);
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  t.after(async () => { slow.close(); await Promise.all([a.destroy(), b.destroy(), relay.destroy()]); });
  const id = await team(a, b, [`/ip4/127.0.0.1/tcp/${slow.port}/p2p/${relay.peerId}`]);
  await eventually('the relay serves it', () => relay.served(), (w) => w[0]?.entries === 3, 20_000);
  const base = 3;

  // Written while the relay is down; pushed in one catch-up once it is back.
  await relay.stop();
  const N = 2000;
  for (let i = 0; i < N; i++) await apiCall(a.home, 'POST', `/api/workspaces/${id}/chat`, { text: `catch-up ${i} ${'y'.repeat(150)}` });
  await relay.start();
  const seen = await eventually('the transfer is under way', () => relay.served(), (w) => w[0].entries > base + 100, 30_000);
  await relay.kill();
  const acknowledged = seen[0].entries;
  assert.ok(acknowledged < base + N, `killed mid-transfer (${acknowledged} of ${base + N} entries stored)`);

  await relay.start();
  const restarted = (await relay.served())[0];
  assert.ok(restarted.entries >= acknowledged, `nothing acknowledged lost: ${restarted.entries} >= ${acknowledged}`);
  await eventually('alice resumes and the relay gets the rest', () => relay.served(), (w) => w[0].entries === base + N, 60_000);
  await a.stop();
  await b.start();
  const log = await eventually('bob gets everything from the relay', () => b.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === N, 60_000);
  assert.equal(log[N - 1].text, `catch-up ${N - 1} ${'y'.repeat(150)}`);
});
