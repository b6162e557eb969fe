// The membership commands (role, remove, leave, audit, permissions, epochs, device add): first
// against a real API server in this process in front of the stand-in peer (--json shapes, exit
// statuses, one-line errors, body validation), then end to end against real daemons. Hostile
// traffic is in test/integration/hostile-suite.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../src/daemon/api-server.ts';
import { FakePeer } from '../daemon/fake-peer.ts';
import { oneErrorLine, runCli } from './run-cli.ts';
import { toHex } from '../../src/core/bytes.ts';
import { publicKeyOfPeerId } from '../../src/net/libp2p-node.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';

const BOB = '0b'.repeat(32);

async function daemon(t: { after: (fn: () => Promise<void>) => void }) {
  const home = mkdtempSync(join(tmpdir(), 'trellis-cli-membership-'));
  const peer = new FakePeer();
  const server = await startApiServer({ peer, home, port: 0, log: () => undefined });
  t.after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });
  const { id } = await peer.createWorkspace('Team');
  peer.workspaces.get(id)!.members.push({ name: 'Bob', key: BOB, role: 'participant', online: false });
  const guestWs = (await peer.createWorkspace('guest-room')).id;
  return { home, peer, id, guestWs };
}

const json = (stdout: string): unknown => JSON.parse(stdout);

test('role: by name or key prefix, --json member shape; unknown role and member are usage errors', async (t) => {
  const { home, peer, id } = await daemon(t);
  const r = await runCli(['role', 'Team', 'Bob', 'guest', '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), { name: 'Bob', key: BOB, role: 'guest', online: false });
  const human = await runCli(['role', id, BOB.slice(0, 8), 'manager'], { home });
  assert.equal(human.code, 0, human.stderr);
  assert.equal(human.stdout, 'Bob is now manager\n');
  assert.deepEqual(peer.membershipCalls.map((c) => c.slice(0, 4)), [['setRole', id, 'Bob', 'guest'], ['setRole', id, BOB.slice(0, 8), 'manager']]);

  const badRole = await runCli(['role', 'Team', 'Bob', 'admin'], { home });
  assert.equal(badRole.code, 1);
  assert.match(oneErrorLine(badRole), /unknown role "admin": use manager, participant, guest/);
  const nobody = await runCli(['role', 'Team', 'Zed', 'guest'], { home });
  assert.equal(nobody.code, 1);
  assert.match(oneErrorLine(nobody), /no member "Zed".*trellis members WS/);
});

test('a refusal by role exits 3 with one line, for every manager-only command', async (t) => {
  const { home, guestWs } = await daemon(t);
  for (const args of [
    ['role', guestWs, 'Alice', 'guest'],
    ['remove', guestWs, 'Alice'],
    ['audit', guestWs, '--json'],
    ['permissions', 'set', guestWs, '--chat', 'manager', '--doc', 'manager'],
  ]) {
    const r = await runCli(args, { home });
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(oneErrorLine(r), /may not/);
  }
});

test('remove sends DELETE and reports the new epoch; leave; unknown workspace is exit 1 with a hint', async (t) => {
  const { home, peer, id } = await daemon(t);
  const r = await runCli(['remove', 'Team', 'Bob', '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), { removed: 'Bob', epoch: 1 });
  assert.deepEqual(peer.members(id).map((m) => m.name), ['Alice']);
  const human = await runCli(['remove', 'Team', 'Alice'], { home });
  assert.equal(human.stdout, 'removed Alice; new key epoch 2\n');

  const left = await runCli(['leave', 'Team', '--json'], { home });
  assert.equal(left.code, 0, left.stderr);
  assert.deepEqual(json(left.stdout), { left: true });
  assert.equal(peer.listWorkspaces().find((w) => w.id === id)!.role, 'removed');

  const missing = await runCli(['leave', 'Nope'], { home });
  assert.equal(missing.code, 1);
  assert.match(oneErrorLine(missing), /no workspace "Nope".*trellis workspace list/);
});

test('audit --json has exactly author, authorName, seq, reason', async (t) => {
  const { home } = await daemon(t);
  const r = await runCli(['audit', 'Team', '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), [{ author: 'cd'.repeat(32), authorName: 'Mallory', seq: 3, reason: 'a guest may not change roles' }]);
  const human = await runCli(['audit', 'Team'], { home });
  assert.match(human.stdout, /Mallory\s+cdcdcdcdcdcdcdcd\s+3\s+a guest may not change roles/);
});

test('permissions: show, set with comma lists or none; bad roles refused before the daemon is asked', async (t) => {
  const { home, peer, id } = await daemon(t);
  const shown = await runCli(['permissions', 'Team', '--json'], { home });
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(json(shown.stdout), { chat: ['manager', 'participant', 'guest'], doc: ['manager', 'participant'] });

  const set = await runCli(['permissions', 'set', 'Team', '--chat', 'manager, participant,manager', '--doc', 'none', '--json'], { home });
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(json(set.stdout), { chat: ['manager', 'participant'], doc: [] });
  assert.deepEqual(peer.permissions(id), { chat: ['manager', 'participant'], doc: [] });
  const human = await runCli(['permissions', 'Team'], { home });
  assert.match(human.stdout, /chat\s+manager, participant\n/);
  assert.match(human.stdout, /doc\s+none\n/);

  const calls = peer.membershipCalls.length;
  const bad = await runCli(['permissions', 'set', 'Team', '--chat', 'manager,owner', '--doc', 'manager'], { home });
  assert.equal(bad.code, 1);
  assert.match(oneErrorLine(bad), /--chat: unknown role "owner"/);
  const missingOption = await runCli(['permissions', 'set', 'Team', '--chat', 'manager'], { home });
  assert.equal(missingOption.code, 1);
  assert.match(oneErrorLine(missingOption), /--doc/);
  assert.equal(peer.membershipCalls.length, calls, 'nothing reached the peer');
});

test('device add prints a device invitation code; invite --role device does the same', async (t) => {
  const { home, peer, id } = await daemon(t);
  const r = await runCli(['device', 'add', 'Team', '--expires', '2h', '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), { code: `trellis1-invite-${id}` });
  assert.deepEqual(peer.invites.at(-1), { ws: id, opts: { role: 'device', expiresInMs: 2 * 3_600_000 } });
  const plain = await runCli(['device', 'add', 'Team'], { home });
  assert.equal(plain.stdout, `trellis1-invite-${id}\n`);
  assert.deepEqual(peer.invites.at(-1)!.opts, { role: 'device', expiresInMs: 86_400_000 });
  const viaInvite = await runCli(['invite', 'Team', '--role', 'device'], { home });
  assert.equal(viaInvite.code, 0, viaInvite.stderr);
  assert.equal(peer.invites.at(-1)!.opts.role, 'device');
  const badExpiry = await runCli(['device', 'add', 'Team', '--expires', 'soon'], { home });
  assert.equal(badExpiry.code, 1);
  assert.match(oneErrorLine(badExpiry), /--expires "soon" is not a duration/);
});

test('the routes validate bodies themselves (400), whatever client calls them', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-api-membership-'));
  const peer = new FakePeer();
  const server = await startApiServer({ peer, home, port: 0, log: () => undefined });
  t.after(async () => { await server.close(); rmSync(home, { recursive: true, force: true }); });
  const { id } = await peer.createWorkspace('Team');
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() as { error?: { code: string; message: string } } };
  };
  assert.equal((await call('POST', `/api/workspaces/${id}/members/Alice/role`, { role: 'admin' })).status, 400);
  assert.equal((await call('POST', `/api/workspaces/${id}/members/Alice/role`, {})).status, 400);
  const dup = await call('PUT', `/api/workspaces/${id}/permissions`, { chat: ['guest', 'guest'], doc: [] });
  assert.equal(dup.status, 400);
  assert.match(dup.json.error!.message, /chat: must not list a role twice/);
  assert.equal((await call('PUT', `/api/workspaces/${id}/permissions`, { chat: ['manager'] })).status, 400);
  assert.equal((await call('PUT', `/api/workspaces/${id}/permissions`, { chat: [], doc: [], extra: 1 })).status, 400);
  assert.equal((await call('POST', `/api/workspaces/${id}/invites`, { role: 'owner' })).status, 400);
  assert.equal((await call('GET', `/api/workspaces/${id}/epochs`)).status, 200);
  assert.equal((await call('DELETE', `/api/workspaces/${id}/members/Nobody`)).status, 404);
  assert.equal((await call('PATCH', `/api/workspaces/${id}/permissions`, {})).status, 405);
});

test('real daemons through the CLI: role, permissions set, device add + join, leave, remove a device', { timeout: 120_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  const laptop = await Daemon.create({ name: 'alice-laptop', bootstrap: [a.addr] });
  await Promise.all([b.start(), laptop.start()]);
  t.after(async () => { await Promise.all([a, b, laptop].map((d) => d.destroy())); });
  const role = async (d: Daemon) => (await d.json<{ role: string }[]>('workspace', 'list'))[0]?.role;
  const epochs = (d: Daemon) => d.json<{ current: number; held: number[] }>('epochs', 'Team');

  await a.json('workspace', 'create', 'Team');
  await b.json('join', (await a.json<{ code: string }>('invite', 'Team')).code);
  const bobKey = (await a.json<{ name: string; key: string }[]>('members', 'Team')).find((m) => m.name === 'bob')!.key;
  const changed = await a.json<{ name: string; key: string; role: string }>('role', 'Team', 'bob', 'guest');
  assert.deepEqual([changed.name, changed.key, changed.role], ['bob', bobKey, 'guest']);
  await eventually('bob sees he is a guest', () => role(b), (r) => r === 'guest');
  assert.equal((await b.cli('chat', 'send', 'Team', 'guests may chat')).code, 0);
  const notAllowed = await b.cli('permissions', 'set', 'Team', '--chat', 'guest', '--doc', 'guest');
  assert.equal(notAllowed.code, 3, notAllowed.stderr);

  assert.deepEqual(await a.json('permissions', 'set', 'Team', '--chat', 'manager,participant', '--doc', 'manager'), { chat: ['manager', 'participant'], doc: ['manager'] });
  await eventually('bob has the new table', () => b.json<{ chat: string[] }>('permissions', 'Team'), (p) => !p.chat.includes('guest'));
  const muted = await b.cli('chat', 'send', 'Team', 'still here?');
  assert.equal(muted.code, 3, muted.stderr);
  assert.match(muted.stderr, /guest may not write chat/);

  // A second device of alice's: the same member, with her role and her name.
  const { code } = await a.json<{ code: string }>('device', 'add', 'Team', '--expires', '10m');
  await laptop.json('join', code);
  assert.equal(await role(laptop), 'manager');
  assert.equal((await laptop.cli('chat', 'send', 'Team', 'from the laptop')).code, 0);
  const log = await eventually('the laptop\'s message at alice', () => a.json<{ text: string; authorName: string }[]>('chat', 'log', 'Team'), (l) => l.some((m) => m.text === 'from the laptop'));
  assert.equal(log.find((m) => m.text === 'from the laptop')!.authorName, 'alice');
  assert.deepEqual((await a.json<{ name: string }[]>('members', 'Team')).map((m) => m.name).sort(), ['alice', 'bob']);

  // Bob leaves; a manager then replaces the key he held.
  const before = (await epochs(a)).current;
  assert.deepEqual(await b.json('leave', 'Team'), { left: true });
  assert.equal(await role(b), 'removed');
  await eventually('bob gone at alice', () => a.json<unknown[]>('members', 'Team'), (m) => m.length === 1);
  const afterLeave = (await eventually('a new epoch after bob left', () => epochs(a), (e) => e.current !== before)).current;
  await eventually('the laptop has it too', () => epochs(laptop), (e) => e.current === afterLeave && e.held.includes(afterLeave));

  // Removing the laptop (by its key) starts another epoch, which the laptop cannot hold.
  const laptopKey = toHex(publicKeyOfPeerId(laptop.peerId));
  const removed = await a.json<{ epoch: number }>('remove', 'Team', laptopKey);
  assert.notEqual(removed.epoch, afterLeave);
  await eventually('the laptop is told', () => role(laptop), (r) => r === 'removed');
  assert.ok(!(await epochs(laptop)).held.includes(removed.epoch), 'the removed device holds no key for the new epoch');
});
