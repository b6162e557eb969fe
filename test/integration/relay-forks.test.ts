// A fork passed on by a relay (real daemons and a real relay as child processes on 127.0.0.1):
// Bob's device is restored from a copy of its home taken before he wrote anything, so his two
// copies sign different entries at the same seq, each seen only by the relay. The relay catches
// the fork when the second copy syncs, keeps the proof across a restart, and Carol, who was never
// online with either copy and only meets the relay, gets the proof and voids Bob's log from the
// fork on, as every honest member does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { RelayDaemon } from '../helpers/relays.ts';

interface Msg { authorName: string; text: string }

test('a fork made towards a relay reaches a member who only ever meets the relay', { timeout: 240_000 }, async (t) => {
  const relay = await RelayDaemon.create();
  await relay.start();
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  const c = await Daemon.create({ name: 'carol' });
  const restoredHome = mkdtempSync(join(tmpdir(), 'trellis-it-bob-restored-'));
  const b2 = await Daemon.create({ name: 'bob', home: restoredHome });
  t.after(async () => { await Promise.all([a.destroy(), b.destroy(), b2.destroy(), c.destroy(), relay.destroy()]); });
  await Promise.all([a.start(), b.start(), c.start()]);

  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  await a.json('relay', 'add', 'Team', relay.addr);
  for (const d of [b, c]) await d.json('join', (await a.json<{ code: string }>('invite', 'Team')).code);
  assert.equal((await a.cli('chat', 'send', 'Team', 'hello')).code, 0);
  await eventually('the relay holds the workspace with its three members', () => relay.served(), (w) => w[0]?.members === 3 && w[0].entries >= 5, 30_000);
  await eventually('carol has alice\'s message', () => c.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 1, 30_000);
  await Promise.all([a.stop(), b.stop(), c.stop()]);
  // A backup of bob's home, before he wrote anything.
  cpSync(b.home, restoredHome, { recursive: true });

  // Bob writes; only the relay is online.
  await b.start();
  await eventually('bob is connected to the relay', () => b.json<{ connected: boolean }[]>('relay', 'list', 'Team'), (l) => l[0]?.connected === true, 30_000);
  assert.equal((await b.cli('chat', 'send', 'Team', 'fork left')).code, 0);
  await eventually('the relay holds bob\'s message', () => relay.served(), (w) => w[0]?.entries >= 6, 30_000);
  await b.stop();

  // The restored copy writes while the relay is down: another entry at bob's seq 1.
  await relay.stop();
  await b2.start();
  assert.equal((await b2.cli('chat', 'send', 'Team', 'fork right')).code, 0);
  // The relay comes back; the copy meets it: their heads for bob differ, and the relay proves the fork.
  await relay.start();
  await eventually('the relay catches the fork', async () => relay.output, (o) => /relay: workspace .*: author .* forked its log at seq 1/.test(o), 60_000);
  await b2.stop();
  // The proof is kept across a restart of the relay.
  await relay.stop();
  relay.output = '';
  await relay.start();

  // Carol starts alone: nobody but the relay. She gets the proof with the history.
  await c.start();
  await eventually('carol gets the fork proof from the relay', async () => c.output, (o) => /author .* forked its log at seq 1; its entries from there on are void/.test(o), 60_000);
  const log = await c.json<Msg[]>('chat', 'log', 'Team');
  assert.deepEqual(log.map((m) => m.text), ['hello'], 'neither version of bob\'s message is shown');
  await c.stop();

  // Alice, too, learns it from the relay alone.
  await a.start();
  await eventually('alice gets the fork proof from the relay', async () => a.output, (o) => /forked its log at seq 1/.test(o), 60_000);
  assert.deepEqual((await a.json<Msg[]>('chat', 'log', 'Team')).map((m) => m.text), ['hello']);
  // And the relay, which refuses bob's log from the fork on, told its restart log nothing new: the proof was on disk.
  assert.doesNotMatch(relay.output, /forked its log/);
  assert.equal((await relay.served())[0].id, id);
});
