// The thin-client commands against a real API server (in this process) in front of a stand-in
// peer: --json output shapes, human output, and the mapping of API errors to exit statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../src/daemon/api-server.ts';
import { FakePeer } from '../daemon/fake-peer.ts';
import { oneErrorLine, runCli } from './run-cli.ts';

interface Fixture { home: string; peer: FakePeer; server: ApiServer }

async function daemon(t: { after: (fn: () => Promise<void>) => void }): Promise<Fixture> {
  const home = mkdtempSync(join(tmpdir(), 'trellis-cli-api-'));
  const peer = new FakePeer();
  const server = await startApiServer({ peer, home, port: 0, log: () => undefined });
  t.after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });
  return { home, peer, server };
}

const json = (stdout: string): unknown => JSON.parse(stdout);

test('status --json has exactly name, peerId, addrs, connections, workspaces', async (t) => {
  const { home } = await daemon(t);
  const r = await runCli(['status', '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), { name: 'Alice', peerId: '12D3KooWFake', addrs: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFake'], connections: 2, workspaces: 0 });
  const human = await runCli(['status'], { home });
  assert.equal(human.code, 0);
  assert.match(human.stdout, /12D3KooWFake/);
});

test('workspace create and list, by --json and for people', async (t) => {
  const { home } = await daemon(t);
  const created = await runCli(['workspace', 'create', 'Team', '--json'], { home });
  assert.equal(created.code, 0, created.stderr);
  const { id } = json(created.stdout) as { id: string };
  assert.deepEqual(json(created.stdout), { id });
  const list = await runCli(['workspace', 'list', '--json'], { home });
  assert.deepEqual(json(list.stdout), [{ id, name: 'Team', role: 'manager', members: 1 }]);
  const human = await runCli(['workspace', 'list'], { home });
  assert.match(human.stdout, /Team\s+manager\s+1/);
});

test('invite prints just the code; --role and --expires reach the peer; join gives {id}', async (t) => {
  const { home, peer } = await daemon(t);
  const { id } = await peer.createWorkspace('Team');
  const r = await runCli(['invite', 'Team', '--role', 'guest', '--expires', '30m'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `trellis1-invite-${id}\n`);
  assert.deepEqual(peer.invites[0], { ws: id, opts: { role: 'guest', expiresInMs: 30 * 60_000 } });
  const j = await runCli(['invite', id, '--json'], { home });
  assert.deepEqual(json(j.stdout), { code: `trellis1-invite-${id}` });
  assert.deepEqual(peer.invites[1].opts, { role: 'participant', expiresInMs: 7 * 86_400_000 });
  const joined = await runCli(['join', 'trellis1-whatever', '--json'], { home });
  assert.equal(joined.code, 0, joined.stderr);
  assert.deepEqual(Object.keys(json(joined.stdout) as object), ['id']);
});

test('API errors map to exit codes: forbidden 3; not found, unavailable, conflict, invalid 1', async (t) => {
  const { home, peer } = await daemon(t);
  await peer.createWorkspace('guest-room');
  const cases: [string[], number, RegExp][] = [
    [['invite', 'guest-room'], 3, /cannot invite/],
    [['join', 'expired'], 3, /expired/],
    [['join', 'offline'], 1, /not reachable/],
    [['join', 'member'], 1, /already a member/],
    [['join', 'garbage'], 1, /not an invitation code/],
    [['members', 'nope'], 1, /no workspace "nope": list yours with `trellis workspace list`/],
    [['chat', 'log', 'nope'], 1, /no workspace/],
    [['chat', 'send', 'nope', 'hi'], 1, /no workspace/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await runCli(args, { home });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(oneErrorLine(r), pattern);
    assert.equal(r.stdout, '');
  }
});

test('an internal daemon error exits 1 with one line', async (t) => {
  const { home, peer } = await daemon(t);
  await peer.createWorkspace('boom');
  const r = await runCli(['chat', 'log', 'boom'], { home });
  assert.equal(r.code, 1);
  assert.match(oneErrorLine(r), /internal error/);
  assert.doesNotMatch(r.stderr, /disk on fire/);
});

test('members and chat: --json shapes, oldest first; names with odd characters are accepted', async (t) => {
  const { home, peer } = await daemon(t);
  const { id } = await peer.createWorkspace('a/b c?');
  const m = await runCli(['members', 'a/b c?', '--json'], { home });
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(json(m.stdout), [{ name: 'Alice', key: 'ab'.repeat(32), role: 'manager', online: true }]);
  assert.equal((await runCli(['chat', 'send', id, 'first'], { home })).code, 0);
  const sent = await runCli(['chat', 'send', id, 'second', 'line', '--json'], { home });
  assert.equal((json(sent.stdout) as { text: string }).text, 'second line');
  await peer.sendChat(id, 'evil \u001b[2J\u202e text\nnext line');
  const log = await runCli(['chat', 'log', id, '--json'], { home });
  const messages = json(log.stdout) as Record<string, unknown>[];
  assert.deepEqual(messages.map((x) => x.text), ['first', 'second line', 'evil \u001b[2J\u202e text\nnext line']);
  assert.deepEqual(Object.keys(messages[0]), ['id', 'author', 'authorName', 'text', 'time']);
  const human = await runCli(['chat', 'log', id], { home });
  assert.equal(human.code, 0);
  assert.match(human.stdout, /Alice: first\n/);
  // Terminal control sequences from other members are neutralised in human output.
  assert.doesNotMatch(human.stdout, /\u001b|\u202e/);
  assert.match(human.stdout, /\n {4}next line\n/);
});

test('an api.json whose token the daemon refuses means "not running": exit 2', async (t) => {
  const { home, server } = await daemon(t);
  writeFileSync(join(home, 'api.json'), JSON.stringify({ url: server.url, token: 'f'.repeat(64), pid: process.pid }));
  const r = await runCli(['status'], { home });
  assert.equal(r.code, 2);
  assert.match(oneErrorLine(r), /not running/);
});

test('start refuses to run a second daemon on a home whose daemon answers', async (t) => {
  const { home, server } = await daemon(t);
  const r = await runCli(['start', '--name', 'Alice', '--api', '127.0.0.1:0'], { home });
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneErrorLine(r), new RegExp(`already running .* at ${server.url}`));
  assert.equal(r.stdout, '');
});
