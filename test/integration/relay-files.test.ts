// Files through a relay, end to end (real daemons and a real relay on 127.0.0.1, driven by the
// CLI): Alice attaches the relay, invites Bob, adds a file of a few MiB and goes offline; Bob, who
// was offline meanwhile, starts and gets the file with the same SHA-256, from the relay, the only
// peer online. Then the relay's whole home (SQLite files with their WAL, chunk files) and every
// byte between the members and the relay are searched for the file's marker and the workspace
// keys: none of them is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { toHex } from '../../src/core/bytes.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { apiCall, filesUnder, keysOf, recordingProxy, RelayDaemon } from '../helpers/relays.ts';

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

/** A text file of `bytes` bytes: numbered lines, each with the marker. */
function markedFile(path: string, marker: string, bytes: number): string {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) { const l = `${i} ${marker} the quick brown fox jumps over the lazy dog\n`; lines.push(l); n += l.length; }
  const data = Buffer.from(lines.join('')).subarray(0, bytes);
  writeFileSync(path, data);
  return createHash('sha256').update(data).digest('hex');
}

test('a member gets a file from the relay while its author is offline; the relay holds no plaintext', { timeout: 240_000 }, async (t) => {
  const marker = `FILE-MARKER-${Math.random().toString(36).slice(2)}`;
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-relay-files-'));
  const relay = await RelayDaemon.create();
  await relay.start();
  // Every byte between the members and the relay goes through this proxy: the attached address is its.
  const proxy = await recordingProxy(relay.port);
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  t.after(async () => {
    proxy.close();
    await Promise.all([a.destroy(), b.destroy(), relay.destroy()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  await a.start();
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  await a.json('relay', 'add', 'Team', `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${relay.peerId}`);
  await eventually('the relay serves the workspace', () => relay.status(), (s) => s.workspaces === 1);
  const { code } = await a.json<{ code: string }>('invite', 'Team', '--role', 'participant');
  await b.start();
  await b.json('join', code);
  await eventually('bob is connected to the relay', () => b.json<{ connected: boolean }[]>('relay', 'list', 'Team'), (l) => l[0]?.connected === true, 30_000);
  await b.stop();

  // Alice adds the file; her daemon hands its chunks to the relay in the background.
  const size = 3 * MiB + 12_345;
  const src = join(scratch, 'report.txt');
  const expected = markedFile(src, marker, size);
  assert.ok(readFileSync(src).includes(marker), 'the file holds the marker (else the greps below prove nothing)');
  const added = await a.json<{ added: { name: string; size: number; chunks: number }[] }>('files', 'add', 'Team', src);
  const chunks = Math.ceil(size / CHUNK);
  assert.deepEqual(added.added.map((f) => [f.name, f.size, f.chunks]), [['report.txt', size, chunks]]);
  const served = () => apiCall<{ chunks: number; chunkBytes: number }[]>(relay.home, 'GET', '/api/relay/workspaces');
  const [held] = await eventually('the relay holds every chunk', served, (w) => w[0]?.chunks === chunks, 30_000);
  assert.ok(held.chunkBytes >= size, 'sealed chunks are at least as large as the file');
  await a.stop();

  // Bob starts with only the relay online: manifest and chunks both come from it.
  await b.start();
  await eventually('the manifest reached bob through the relay', () => b.json<{ name: string }[]>('files', 'list', 'Team'), (l) => l.some((f) => f.name === 'report.txt'), 30_000);
  const members = await b.json<{ name: string; online: boolean }[]>('members', 'Team');
  assert.deepEqual(members.filter((m) => m.name === 'alice').map((m) => m.online), [false], 'alice is offline');
  await eventually('bob is connected to the relay', () => b.json<{ connected: boolean }[]>('relay', 'list', 'Team'), (l) => l[0]?.connected === true, 30_000);
  const dest = join(scratch, 'copy.txt');
  const got = await b.json<{ chunks: number; fetched: number; local: number; corrupt: number }>('files', 'get', id, 'report.txt', dest);
  assert.deepEqual([got.chunks, got.fetched, got.local, got.corrupt], [chunks, chunks, 0, 0], 'every chunk was fetched (from the relay: nobody else is online)');
  assert.equal(createHash('sha256').update(readFileSync(dest)).digest('hex'), expected, 'identical SHA-256');
  await b.stop();

  // The relay can read none of it: neither its files nor the traffic hold the marker or a key.
  const keys = keysOf(a.home, id);
  assert.ok(keys.length >= 1);
  await relay.stop();
  const needles = [Buffer.from(marker), ...keys.flatMap((k) => [Buffer.from(k), Buffer.from(toHex(k))])];
  const files = filesUnder(relay.home);
  assert.ok(files.some((f) => f.path === 'trellis.db'));
  const chunkFiles = files.filter((f) => f.path.startsWith(`chunks/${id}/`) && !f.path.includes('/tmp/'));
  assert.equal(chunkFiles.length, chunks, 'the chunks are on the relay\'s disk');
  for (const f of chunkFiles) assert.equal(createHash('sha256').update(f.bytes).digest('hex'), basename(f.path), 'each stored under its SHA-256');
  for (const f of files) for (const n of needles) assert.equal(f.bytes.indexOf(n), -1, `relay file ${f.path} holds plaintext or a key`);
  const wire = proxy.bytes();
  assert.ok(wire.length > 2 * size, `the file went through the proxy twice, to the relay and back (${wire.length} bytes)`);
  for (const n of needles) assert.equal(wire.indexOf(n), -1, 'the traffic holds plaintext or a key');
});
