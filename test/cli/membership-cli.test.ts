// The membership commands (role, remove, leave, audit, permissions, device add) against a real API
// server in this process in front of the stand-in peer: --json shapes, exit statuses and one-line
// errors. The real behaviour behind them is tested with real daemons (test/integration).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../src/daemon/api-server.ts';
import { FakePeer } from '../daemon/fake-peer.ts';
import { oneErrorLine, runCli } from './run-cli.ts';

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
