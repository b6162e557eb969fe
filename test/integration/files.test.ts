// Files end to end with real daemons driven by the CLI: a 200 MiB file (generated here from a
// seeded PRNG, streaming) is added on A and fetched on B with the same SHA-256. B's daemon is
// killed (SIGKILL) half-way through the transfer, restarted, and the second `get` fetches only what
// was missing. Peak RSS of both daemons stays under 300 MiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { readApiFile } from '../../src/daemon/api-file.ts';
import { cli, Daemon, eventually } from '../helpers/daemons.ts';
// The benchmark's generator: random bytes from a seed, streamed, never whole in memory.
import { writePrngFile } from '../../bench/files/prng-file.ts';

const MiB = 1024 * 1024;
const FILE_BYTES = 200 * MiB;
const CHUNK = 256 * 1024;
const RSS_LIMIT_KIB = 300 * 1024;

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: MiB }).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/** Peak resident set size of a live process, in KiB (VmHWM never decreases). */
function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]);
}

/** Follows a daemon's file-progress events (the CLI's own socket is its business). */
function watchProgress(d: Daemon, onEvent: (e: { op: string; done: number; total: number }) => void): WebSocket {
  const api = readApiFile(d.home)!;
  const ws = new WebSocket(`ws://${new URL(api.url).host}/api/events`, { headers: { Authorization: `Bearer ${api.token}` } });
  ws.on('message', (data: Buffer) => {
    const e = JSON.parse(data.toString('utf8')) as { type: string; op: string; done: number; total: number };
    if (e.type === 'file-progress') onEvent(e);
  });
  ws.on('error', () => undefined);
  return ws;
}

test('200 MiB: add on A, get on B, SIGKILL at ~50%, restart resumes without refetching; RSS < 300 MiB', { timeout: 180_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-files-it-'));
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  await b.start();
  t.after(async () => {
    await Promise.all([a, b].map((d) => d.destroy()));
    rmSync(scratch, { recursive: true, force: true });
  });
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  const code = (await a.json<{ code: string }>('invite', 'Team', '--role', 'participant')).code;
  await b.json('join', code);

  const src = join(scratch, 'big.bin');
  const expected = await writePrngFile(src, FILE_BYTES, 2026);
  let started = Date.now();
  const added = await a.json<{ added: { name: string; size: number; chunks: number }[] }>('files', 'add', 'Team', src);
  const addMs = Date.now() - started;
  assert.deepEqual(added.added.map((f) => [f.name, f.size, f.chunks]), [['big.bin', FILE_BYTES, FILE_BYTES / CHUNK]]);
  await eventually('manifest at B', () => b.json<{ name: string }[]>('files', 'list', id), (l) => l.length === 1);
  const [listed] = await b.json<{ name: string; version: number; size: number; authorName: string; local: boolean }[]>('files', 'list', 'Team');
  assert.deepEqual([listed.name, listed.version, listed.size, listed.authorName, listed.local], ['big.bin', 1, FILE_BYTES, 'alice', false]);
  assert.equal((await b.json<unknown[]>('files', 'versions', 'Team', 'big.bin')).length, 1);
  // Errors: one line each, exit 1; the API itself refuses relative paths.
  const unknown = await b.cli('files', 'get', id, 'nope.bin', scratch);
  assert.deepEqual([unknown.code, /no file or folder "nope.bin"/.test(unknown.stderr)], [1, true], unknown.stderr);
  const missing = await a.cli('files', 'add', 'Team', join(scratch, 'missing'));
  assert.deepEqual([missing.code, /nothing to add at/.test(missing.stderr)], [1, true], missing.stderr);
  const api = readApiFile(b.home)!;
  const relative = await fetch(`${api.url}/api/workspaces/${id}/files/get`, {
    method: 'POST', headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'big.bin', dest: 'copy.bin' }),
  });
  assert.equal(relative.status, 400);
  assert.match(((await relative.json()) as { error: { message: string } }).error.message, /relative/);

  // B fetches; at half-way its daemon is killed.
  const dest = join(scratch, 'copy.bin');
  const pidB1 = b.proc!.pid!;
  let doneAtKill = -1;
  let peakB1 = 0;
  const killed = new Promise<void>((resolve) => {
    const ws = watchProgress(b, (e) => {
      if (e.op !== 'get' || doneAtKill >= 0) return;
      if (e.done >= e.total * 0.45) {
        doneAtKill = e.done;
        peakB1 = peakRssKiB(pidB1);
        b.proc!.once('exit', () => resolve());
        b.proc!.kill('SIGKILL');
        ws.terminate();
      }
    });
  });
  const firstGet = cli(b.home, ['files', 'get', id, 'big.bin', dest, '--json'], 120_000);
  let wasKilled = false;
  const early = firstGet.then((r) => { if (!wasKilled) throw new Error(`the first get ended before the kill: ${r.code} ${r.stderr}`); });
  await Promise.race([killed.then(() => { wasKilled = true; }), early]);
  early.catch(() => undefined);
  const first = await firstGet;
  assert.notEqual(first.code, 0, 'the interrupted get fails');
  assert.ok(doneAtKill > 0 && doneAtKill < FILE_BYTES, `killed mid-transfer (${doneAtKill} bytes done)`);
  b.proc = undefined;

  await b.start();
  await eventually('A online at B', () => b.json<{ name: string; online: boolean }[]>('members', id), (m) => m.every((x) => x.online), 30_000);
  started = Date.now();
  const second = await b.json<{ chunks: number; local: number; resumed: number; fetched: number; corrupt: number; files: { path: string }[] }>('files', 'get', id, 'big.bin', dest);
  const resumeMs = Date.now() - started;
  const chunksAtKill = Math.floor(doneAtKill / CHUNK);
  assert.equal(second.chunks, FILE_BYTES / CHUNK);
  assert.equal(second.local + second.fetched, second.chunks);
  assert.ok(second.resumed >= chunksAtKill, `chunks fetched before the kill are not fetched again (${second.resumed} resumed ≥ ${chunksAtKill} done at the kill)`);
  assert.ok(second.fetched <= second.chunks - chunksAtKill, 'only the missing chunks were fetched');
  assert.equal(second.corrupt, 0);
  assert.deepEqual(second.files.map((f) => f.path), [dest]);
  assert.equal(await sha256File(dest), expected, 'identical SHA-256');

  const peakA = peakRssKiB(a.proc!.pid!);
  const peakB2 = peakRssKiB(b.proc!.pid!);
  t.diagnostic(`add ${addMs} ms; killed at ${(doneAtKill / MiB).toFixed(0)} MiB; resume: ${second.resumed} resumed + ${second.fetched} fetched in ${resumeMs} ms; peak RSS A ${Math.round(peakA / 1024)} MiB, B ${Math.round(peakB1 / 1024)} / ${Math.round(peakB2 / 1024)} MiB`);
  for (const [who, kib] of [['A', peakA], ['B before the kill', peakB1], ['B after the restart', peakB2]] as const) {
    assert.ok(kib < RSS_LIMIT_KIB, `peak RSS of ${who}: ${Math.round(kib / 1024)} MiB`);
  }
});
