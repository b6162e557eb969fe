// mDNS: two daemons started without --bootstrap find each other on the LAN (here: loopback),
// then a workspace syncs between them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, eventually } from '../helpers/daemons.ts';

test('daemons discover each other by mDNS without --bootstrap', { timeout: 120_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice', mdns: true });
  const b = await Daemon.create({ name: 'bob', mdns: true });
  await Promise.all([a.start(), b.start()]);
  t.after(async () => { await a.destroy(); await b.destroy(); });
  // Connected before anyone shared an address: only mDNS could have done it.
  const status = await eventually('mDNS connection', () => a.json<{ connections: number }>('status'), (s) => s.connections >= 1, 30_000);
  assert.ok(status.connections >= 1);
  await a.json('workspace', 'create', 'Lan');
  const { code } = await a.json<{ code: string }>('invite', 'Lan');
  await b.json('join', code);
  await a.cli('chat', 'send', 'Lan', 'over the LAN');
  const log = await eventually('message on B', () => b.json<{ text: string }[]>('chat', 'log', 'Lan'), (l) => l.length === 1);
  assert.equal(log[0].text, 'over the LAN');
});
