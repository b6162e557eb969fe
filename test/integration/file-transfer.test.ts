// Browser file transfer (src/daemon/routes/file-transfer.ts) against a real daemon: the token is
// required, names that climb out are refused, and an upload comes back byte for byte as a download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readApiFile } from '../../src/daemon/api-file.ts';
import { Daemon } from '../helpers/daemons.ts';

test('files upload and download: 401 without token, 400 on traversal, identical bytes round trip', { timeout: 60_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  t.after(() => a.destroy());
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  const api = readApiFile(a.home)!;
  const auth = { Authorization: `Bearer ${api.token}` };
  const base = `${api.url}/api/workspaces/${id}/files`;
  const bytes = randomBytes(700 * 1024 + 13);

  const caps = (await (await fetch(`${api.url}/api/capabilities`, { headers: auth })).json()) as { routes: string[] };
  assert.ok(caps.routes.includes('POST /api/workspaces/:ws/files/upload'));
  assert.ok(caps.routes.includes('GET /api/workspaces/:ws/files/download'));

  const noToken = await fetch(`${base}/upload?name=a.bin`, { method: 'POST', body: bytes });
  assert.equal(noToken.status, 401);
  assert.equal((await fetch(`${base}/download?name=a.bin`)).status, 401);

  const traversal = await fetch(`${base}/upload?name=${encodeURIComponent('../x')}`, { method: 'POST', headers: auth, body: bytes });
  assert.equal(traversal.status, 400);
  assert.equal((await fetch(`${base}/download?name=${encodeURIComponent('../x')}`, { headers: auth })).status, 400);

  const up = await fetch(`${base}/upload?name=${encodeURIComponent('docs/a b.bin')}&job=j1`, { method: 'POST', headers: auth, body: bytes });
  assert.equal(up.status, 201);
  const added = (await up.json()) as { added: { name: string; size: number }[] };
  assert.deepEqual(added.added.map((f) => [f.name, f.size]), [['docs/a b.bin', bytes.length]]);

  const down = await fetch(`${base}/download?name=${encodeURIComponent('docs/a b.bin')}&version=1`, { headers: auth });
  assert.equal(down.status, 200);
  assert.equal(down.headers.get('content-length'), String(bytes.length));
  assert.match(down.headers.get('content-disposition') ?? '', /^attachment; filename="a b.bin"/);
  assert.ok(Buffer.from(await down.arrayBuffer()).equals(bytes));

  assert.equal((await fetch(`${base}/download?name=nope.bin`, { headers: auth })).status, 404);
  // Temporary files are gone.
  const uploads = join(a.home, 'uploads');
  assert.deepEqual(existsSync(uploads) ? readdirSync(uploads) : [], []);

  const sync = await fetch(`${api.url}/api/workspaces/${id}/sync`, { headers: auth });
  assert.deepEqual(await sync.json(), { peers: 0, pending: 0, syncing: false });
});
