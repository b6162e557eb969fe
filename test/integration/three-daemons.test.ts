// The peer core end to end: three daemons as child processes on 127.0.0.1, separate homes,
// --no-mdns + --bootstrap, driven only through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, eventually } from '../helpers/daemons.ts';

interface Msg { id: string; author: string; authorName: string; text: string; time: number }
interface Member { name: string; key: string; role: string; online: boolean }

test('three daemons: invite, join, chat, offline catch-up of 200 messages, restart keeps everything', { timeout: 600_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  const c = await Daemon.create({ name: 'carol', bootstrap: [a.addr] });
  await Promise.all([b.start(), c.start()]);
  t.after(async () => { await Promise.all([a, b, c].map((d) => d.destroy())); });

  const status = await a.json<{ name: string; peerId: string; addrs: string[]; connections: number; workspaces: number }>('status');
  assert.equal(status.name, 'alice');
  assert.equal(status.peerId, a.peerId);
  assert.deepEqual(Object.keys(status).sort(), ['addrs', 'connections', 'name', 'peerId', 'workspaces']);

  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  assert.match(id, /^[0-9a-f]{32}$/);
  const codeB = (await a.json<{ code: string }>('invite', 'Team', '--role', 'participant')).code;
  const codeC = (await a.json<{ code: string }>('invite', id, '--role', 'guest', '--expires', '1h')).code;
  assert.deepEqual(await b.json('join', codeB), { id });
  assert.deepEqual(await c.json('join', codeC), { id });

  // A used code is refused with a clear message.
  const reuse = await c.cli('join', codeB);
  assert.notEqual(reuse.code, 0);
  assert.match(reuse.stderr, /already/);

  const list = await b.json<{ id: string; name: string; role: string; members: number }[]>('workspace', 'list');
  assert.deepEqual(list, [{ id, name: 'Team', role: 'participant', members: 3 }]);
  const members = await eventually('all members online', () => a.json<Member[]>('members', 'Team'), (m) => m.length === 3 && m.every((x) => x.online));
  assert.deepEqual(members.map((m) => [m.name, m.role]).sort(), [['alice', 'manager'], ['bob', 'participant'], ['carol', 'guest']]);

  // All three chat; every log ends identical, in the same order.
  await Promise.all([a.cli('chat', 'send', 'Team', 'hello from alice'), b.cli('chat', 'send', id, 'hello from bob'), c.cli('chat', 'send', 'Team', 'hello from carol')]);
  const logOf = (d: Daemon) => d.json<Msg[]>('chat', 'log', 'Team');
  const allLogs = () => Promise.all([a, b, c].filter((d) => d.running).map(logOf));
  let logs = await eventually('three messages everywhere', allLogs, (ls) => ls.every((l) => l.length === 3));
  assert.deepEqual(logs[0], logs[1]);
  assert.deepEqual(logs[1], logs[2]);
  assert.deepEqual(logs[0].map((m) => m.text).sort(), ['hello from alice', 'hello from bob', 'hello from carol']);
  assert.deepEqual(Object.keys(logs[0][0]).sort(), ['author', 'authorName', 'id', 'text', 'time']);

  // B goes offline; A and C write 200 messages; B restarts and catches up with all of them.
  assert.equal(await b.stop(), 0, 'daemon exits cleanly on SIGTERM');
  for (let i = 0; i < 100; i++) {
    const [ra, rc] = await Promise.all([a.cli('chat', 'send', 'Team', `a-${i}`), c.cli('chat', 'send', 'Team', `c-${i}`)]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rc.code, 0, rc.stderr);
  }
  await b.start();
  logs = await eventually('B catches up on 203 messages', allLogs, (ls) => ls.every((l) => l.length === 203), 60_000);
  assert.deepEqual(logs[0], logs[1]);
  assert.deepEqual(logs[1], logs[2]);
  const texts = new Set(logs[1].map((m) => m.text));
  for (let i = 0; i < 100; i++) assert.ok(texts.has(`a-${i}`) && texts.has(`c-${i}`), `message ${i} reached B`);
  // Each author's messages keep their order.
  const aOnly = logs[1].filter((m) => m.text.startsWith('a-')).map((m) => Number(m.text.slice(2)));
  assert.deepEqual(aOnly, [...aOnly].sort((x, y) => x - y));

  // Persistence: stop everything; each daemon started alone still has the whole log.
  const before = logs[0];
  await Promise.all([a, b, c].map((d) => d.stop()));
  for (const d of [a, b, c]) {
    await d.start();
    assert.deepEqual(await logOf(d), before, `${d.name} keeps its log across a restart`);
    assert.deepEqual((await d.json<{ id: string }[]>('workspace', 'list')).map((w) => w.id), [id]);
    await d.stop();
  }
  // And together again, they still sync.
  await Promise.all([a.start(), b.start(), c.start()]);
  await c.cli('chat', 'send', 'Team', 'after restart');
  logs = await eventually('message after restart everywhere', allLogs, (ls) => ls.every((l) => l.length === 204), 30_000);
  assert.deepEqual(logs[0], logs[2]);
});
