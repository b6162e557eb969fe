// A peer whose disk is full: the API says so in a sentence with 503 (the CLI exits with it), for
// any write that meets it, here the database's (SQLite's "database or disk is full"), and the
// peer goes on once there is room again. The mapping is checked on its own too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDiskFull } from '../../src/core/io-errors.ts';
import { startApiServer } from '../../src/daemon/api-server.ts';
import { errorResponse } from '../../src/daemon/http-errors.ts';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { waitFor } from '../helpers/replicas.ts';
import { mountTmpfs, tmpfsMountsWork, unmount } from '../helpers/tmpfs.ts';

test('disk full: ENOSPC, EDQUOT and SQLITE_FULL are a 503 sentence; other failures stay internal', () => {
  const sqliteFull = Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 });
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  for (const e of [sqliteFull, enospc, Object.assign(new Error('quota'), { code: 'EDQUOT' })]) {
    assert.equal(isDiskFull(e), true);
    const r = errorResponse(e);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body.error, { code: 'unavailable', message: 'the disk that holds this peer\'s data is full: free some space, then try again' });
    assert.match(r.logLine ?? '', /^disk full: /);
  }
  const busy = Object.assign(new Error('database is locked'), { code: 'ERR_SQLITE_ERROR', errcode: 5 });
  assert.equal(isDiskFull(busy), false);
  assert.equal(errorResponse(busy).status, 500);
  assert.equal(errorResponse(new TypeError('bug')).body.error.code, 'internal');
});

test('disk full: posting to chat with the home\'s disk full answers 503 with a sentence, and works once there is room', { skip: tmpfsMountsWork() ? false : 'needs root and tmpfs mounts', timeout: 60_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-disk-full-'));
  assert.ok(mountTmpfs(home, '8m'));
  const live: { peer?: Peer; server?: Awaited<ReturnType<typeof startApiServer>> } = {};
  t.after(async () => {
    await live.server?.close();
    await live.peer?.stop();
    unmount(home);
    rmSync(home, { recursive: true, force: true });
  });
  createIdentity(home, 'alice');
  const peer = live.peer = await Peer.start({ home, mdns: false, log: () => {} });
  const server = live.server = await startApiServer({ peer, home, port: 0, log: (l) => { if (process.env.XLOG) console.error('LOG', l); } });
  await peer.createWorkspace('Team');
  const post = (text: string): Promise<Response> => fetch(`${server.url}/api/workspaces/Team/chat`, {
    method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text }),
  });
  assert.equal((await post('before')).status, 201);
  // Fill the disk to the last byte.
  mkdirSync(join(home, 'ballast'));
  const ballast = join(home, 'ballast', 'fill');
  const fd = openSync(ballast, 'w');
  try {
    const block = Buffer.alloc(64 * 1024, 1);
    for (;;) { try { writeSync(fd, block); } catch { break; } }
    for (;;) { try { writeSync(fd, block, 0, 512); } catch { break; } }
  } finally {
    closeSync(fd);
  }
  // Messages until SQLite needs a page it cannot get (its WAL may have room for a few).
  let res: Response | undefined;
  for (let i = 0; i < 200; i++) {
    res = await post(`message ${i} `.repeat(200));
    if (res.status !== 201) break;
  }
  assert.equal(res!.status, 503);
  assert.deepEqual((await res!.json() as { error: unknown }).error, { code: 'unavailable', message: 'the disk that holds this peer\'s data is full: free some space, then try again' });
  // A document change (adding a tool) meets the same full disk: 503, and the live document does not
  // show what was never written.
  const call = (method: string, path: string, body?: unknown): Promise<Response> => fetch(`${server.url}${path}`, {
    method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const tool = await call('POST', '/api/workspaces/Team/tools', { type: 'notes', name: 'Never written' });
  assert.equal(tool.status, 503);
  assert.equal((await tool.json() as { error: { code: string } }).error.code, 'unavailable');
  assert.ok(!(await (await call('GET', '/api/workspaces/Team/tools')).text()).includes('Never written'));
  // Room again: the peer writes as before (its log was not left ahead of what the store holds).
  rmSync(join(home, 'ballast'), { recursive: true });
  assert.equal((await post('after')).status, 201);
  assert.ok(peer.chatLog(peer.resolveWorkspace('Team')).some((m) => m.text === 'after'));
  assert.equal((await call('POST', '/api/workspaces/Team/tools', { type: 'notes', name: 'Written' })).status, 201);
});

test('disk full: entries a member sends while our disk is full are not lost: they come again once there is room', { skip: tmpfsMountsWork() ? false : 'needs root and tmpfs mounts', timeout: 90_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trellis-disk-full-sync-'));
  const homes = { a: join(root, 'a'), b: join(root, 'b') };
  mkdirSync(homes.a);
  mkdirSync(homes.b);
  assert.ok(mountTmpfs(homes.b, '8m'));
  const peers: Peer[] = [];
  t.after(async () => {
    for (const p of peers) await p.stop();
    unmount(homes.b);
    rmSync(root, { recursive: true, force: true });
  });
  createIdentity(homes.a, 'alice');
  createIdentity(homes.b, 'bob');
  const a = await Peer.start({ home: homes.a, mdns: false, log: () => {} });
  peers.push(a);
  const bobLogs: string[] = [];
  const b = await Peer.start({ home: homes.b, mdns: false, bootstrap: [a.status().addrs[0]], log: (l) => bobLogs.push(l) });
  peers.push(b);
  const ws = await a.createWorkspace('Team');
  await b.join(await a.createInvite(ws.id, { role: 'participant' }));
  await waitFor(() => b.chatLog(ws.id).length === 0 && a.members(ws.id).every((m) => m.online), 15_000, 'bob in, both online');
  const ballast = join(homes.b, 'ballast');
  const fd = openSync(ballast, 'w');
  try {
    const block = Buffer.alloc(64 * 1024, 1);
    for (;;) { try { writeSync(fd, block); } catch { break; } }
    for (;;) { try { writeSync(fd, block, 0, 512); } catch { break; } }
  } finally {
    closeSync(fd);
  }
  // Alice writes more than Bob's last free pages can take.
  for (let i = 0; i < 40; i++) await a.sendChat(ws.id, `while full ${i} `.repeat(100));
  await waitFor(() => bobLogs.some((l) => /disk is full/.test(l)), 15_000, 'bob failing to store');
  assert.ok(b.chatLog(ws.id).length < 40);
  // Room again: everything arrives, nothing was counted as held without being stored.
  rmSync(ballast);
  await waitFor(() => b.chatLog(ws.id).length === 40, 60_000, 'every message at bob');
  assert.deepEqual(b.chatLog(ws.id).map((m) => m.text), a.chatLog(ws.id).map((m) => m.text));
});
