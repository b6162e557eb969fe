// `trellis workspace delete`: real daemons through the CLI. A member must leave first; once the
// others have the leave, the workspace goes from this device with its history, keys and file
// chunks, and stays gone after a restart; a workspace with no one else in it goes at once; a leave
// nobody has yet needs --force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readApiFile } from '../../src/daemon/api-file.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';

function chunkCount(home: string): number {
  const dir = join(home, 'chunks');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((d) => /^[0-9a-f]{2}$/.test(d)).reduce((n, d) => n + readdirSync(join(dir, d)).length, 0);
}

test('workspace delete: leave first; then history, keys and chunks go from this device, for good; --force for a leave no one has', { timeout: 120_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-ws-delete-'));
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  await b.start();
  t.after(async () => { await Promise.all([a, b].map((d) => d.destroy())); rmSync(scratch, { recursive: true, force: true }); });
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  await b.json('join', (await a.json<{ code: string }>('invite', 'Team', '--role', 'participant')).code);
  await eventually('bob is a member at alice', () => a.json<unknown[]>('members', 'Team'), (m) => m.length === 2);
  const file = join(scratch, 'notes.txt');
  writeFileSync(file, 'x'.repeat(300_000));
  await b.json('files', 'add', 'Team', file);
  assert.equal(chunkCount(b.home), 2);

  // Members are told to leave first.
  for (const d of [a, b]) {
    const r = await d.cli('workspace', 'delete', 'Team');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /you are a member of "Team": leave it first \(trellis leave\), then delete it from this device/);
  }
  // Bad input: one clear line.
  const api = readApiFile(b.home)!;
  const bad = await fetch(`${api.url}/api/workspaces/${id}?force=maybe`, { method: 'DELETE', headers: { Authorization: `Bearer ${api.token}` } });
  assert.deepEqual([bad.status, ((await bad.json()) as { error: { message: string } }).error.message], [400, 'force must be true or false']);
  const unknown = await b.cli('workspace', 'delete', 'Nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no workspace "Nope"/);

  // Bob leaves with alice online, and deletes it at once: the command waits until she has the leave.
  await b.json('leave', 'Team');
  assert.deepEqual(await b.json('workspace', 'delete', 'Team', '--json'), { deleted: id });
  assert.deepEqual(await b.json('workspace', 'list'), []);
  assert.equal(chunkCount(b.home), 0, 'bob\'s file chunks went with it');
  const gone = await b.cli('members', id);
  assert.equal(gone.code, 1);
  assert.deepEqual((await a.json<{ name: string }[]>('members', 'Team')).map((m) => m.name), ['alice']);
  // Gone for good: not back after a restart, and alice's sessions find nothing to sync.
  await b.stop();
  await b.start();
  assert.deepEqual(await b.json('workspace', 'list'), []);
  await a.json('chat', 'send', 'Team', 'bob is gone');
  assert.deepEqual(await b.json('workspace', 'list'), []);

  // A workspace no one else is in goes at once.
  const solo = await a.json<{ id: string }>('workspace', 'create', 'Solo');
  assert.deepEqual(await a.json('workspace', 'delete', 'Solo', '--json'), { deleted: solo.id });
  assert.deepEqual((await a.json<{ name: string }[]>('workspace', 'list')).map((w) => w.name), ['Team']);

  // Bob joins again, and leaves while alice is offline: deleting needs --force.
  await b.json('join', (await a.json<{ code: string }>('invite', 'Team', '--role', 'participant')).code);
  await eventually('bob is a member again', () => a.json<unknown[]>('members', 'Team'), (m) => m.length === 2);
  await a.stop();
  await b.json('leave', 'Team');
  const refused = await b.cli('workspace', 'delete', 'Team');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no member or relay has your leave yet/);
  assert.equal((await b.json<unknown[]>('workspace', 'list')).length, 1, 'nothing was deleted');
  assert.deepEqual(await b.json('workspace', 'delete', 'Team', '--force', '--json'), { deleted: id });
  assert.deepEqual(await b.json('workspace', 'list'), []);
});
