// Relays end to end (real daemons on 127.0.0.1, driven by the CLI and the API): Alice and Bob
// are never online at the same time. Bob joins through the relay while Alice is offline; Alice
// writes 500 messages and leaves; Bob gets them all from the relay, replies and leaves; Alice
// gets the replies on her next start. Afterwards the relay's files and all traffic between the
// members and the relay hold no chat text and no workspace key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/core/bytes.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { apiCall, filesUnder, keysOf, recordingProxy, RelayDaemon } from '../helpers/relays.ts';

interface Msg { author: string; authorName: string; text: string }
interface Member { name: string; key: string; role: string; online: boolean }

test('members never online together exchange 500 messages and a join through a relay; the relay holds no plaintext', { timeout: 180_000 }, async (t) => {
  const marker = `RELAY-MARKER-${Math.random().toString(36).slice(2)}`;
  const relay = await RelayDaemon.create();
  await relay.start();
  // Every byte between members and the relay goes through this proxy: the attached address is its.
  const proxy = await recordingProxy(relay.port);
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  t.after(async () => { proxy.close(); await Promise.all([a.destroy(), b.destroy(), relay.destroy()]); });
  await a.start();

  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  const viaProxy = `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${relay.peerId}`;
  const attached = await a.json<{ key: string; connected: boolean }[]>('relay', 'add', 'Team', viaProxy);
  assert.equal(attached.length, 1);
  const status = await eventually('the relay serves the workspace', () => relay.status(), (s) => s.workspaces === 1);
  assert.deepEqual(Object.keys(status).sort(), ['addrs', 'bytesHeld', 'connections', 'name', 'peerId', 'quota', 'relay', 'workspaces']);
  assert.deepEqual([status.relay, status.name, status.connections >= 1, status.bytesHeld > 0], [true, 'relay', true, true]);
  await eventually('alice is connected to the relay', () => a.json<{ connected: boolean }[]>('relay', 'list', 'Team'), (l) => l[0]?.connected === true);
  const { code } = await a.json<{ code: string }>('invite', 'Team');
  await a.stop();

  // Bob joins while Alice is offline: the request waits at the relay.
  await b.start();
  const queued = await b.json<{ id: string; pending: boolean; relay: string }>('join', code, '--no-wait');
  assert.deepEqual([queued.id, queued.pending, queued.relay], [id, true, attached[0].key]);
  const wait = await b.cli('join', code, '--timeout', '2s');
  assert.notEqual(wait.code, 0, 'join waits for the offline inviter, then gives up clearly');
  assert.match(wait.stderr, /queued at relay .*waiting until they or another manager of the workspace come online/);
  assert.match(wait.stderr, /has not accepted yet/);
  await b.stop();

  // Alice comes back: the relay passes the request on; she adds Bob and writes 500 messages.
  await a.start();
  await eventually('alice added bob through the relay', () => a.json<Member[]>('members', 'Team'), (m) => m.length === 2, 30_000);
  for (let i = 0; i < 500; i++) await apiCall(a.home, 'POST', `/api/workspaces/${id}/chat`, { text: `${marker} from alice ${i}` });
  // create, relay, add (bob), 500 messages
  await eventually('the relay holds all of alice\'s entries', () => apiCall<{ entries: number }[]>(relay.home, 'GET', '/api/relay/workspaces'), (w) => w[0]?.entries >= 503, 30_000);
  const held = (await relay.status()).bytesHeld;
  await a.stop();

  // Bob starts alone: his pending join completes, and the 500 messages come from the relay.
  await b.start();
  await eventually('bob joined', () => b.json<{ id: string }[]>('workspace', 'list'), (l) => l.some((w) => w.id === id), 30_000);
  const bobLog = await eventually('bob has all 500 messages', () => b.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 500, 60_000);
  assert.equal(bobLog[0].authorName, 'alice');
  assert.deepEqual(bobLog.map((m) => m.text), Array.from({ length: 500 }, (_, i) => `${marker} from alice ${i}`));
  for (let i = 0; i < 3; i++) assert.equal((await b.cli('chat', 'send', 'Team', `${marker} reply ${i}`)).code, 0);
  await eventually('the relay holds the replies', () => relay.status(), (s) => s.bytesHeld > held, 20_000);
  await new Promise((r) => setTimeout(r, 500));
  await b.stop();

  // Alice's next start brings Bob's replies.
  await a.start();
  const aliceLog = await eventually('alice gets the replies', () => a.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 503, 30_000);
  assert.deepEqual(aliceLog.slice(500).map((m) => [m.authorName, m.text]), [0, 1, 2].map((i) => ['bob', `${marker} reply ${i}`]));
  await a.stop();

  // The relay can read none of it: neither its files nor the traffic hold a text or a key.
  const keys = keysOf(a.home, id);
  assert.ok(keys.length >= 1);
  await relay.stop();
  const needles = [Buffer.from(marker), ...keys.flatMap((k) => [Buffer.from(k), Buffer.from(toHex(k))])];
  const files = filesUnder(relay.home);
  assert.ok(files.some((f) => f.path === 'trellis.db'));
  for (const f of files) for (const n of needles) assert.equal(f.bytes.indexOf(n), -1, `relay file ${f.path} holds plaintext or a key`);
  const wire = proxy.bytes();
  assert.ok(wire.length > 500 * 200, `the traffic went through the proxy (${wire.length} bytes)`);
  for (const n of needles) assert.equal(wire.indexOf(n), -1, 'the traffic holds plaintext or a key');
});
