// Bad CLI input against a real daemon: the documented exit code and one line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, Daemon } from '../helpers/daemons.ts';

function oneLine(r: { stderr: string }): void {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], /^trellis: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('unknown workspace, malformed or expired or used codes, oversized text, stopped daemon', { timeout: 120_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  await Promise.all([a.start(), b.start()]);
  t.after(async () => { await a.destroy(); await b.destroy(); });
  await a.json('workspace', 'create', 'Real');

  for (const args of [['chat', 'log', 'Nope'], ['chat', 'send', 'Nope', 'hi'], ['members', 'Nope'], ['invite', 'Nope']]) {
    const r = await a.cli(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    oneLine(r);
    assert.match(r.stderr, /no workspace "Nope"/);
  }
  for (const bad of ['hello', 'trellis1-!!!', 'trellis1-AAAA']) {
    const r = await b.cli('join', bad);
    assert.equal(r.code, 1, r.stderr);
    oneLine(r);
    assert.match(r.stderr, /invitation/);
  }
  // A valid code with one flipped character fails its signature check.
  const { code } = await a.json<{ code: string }>('invite', 'Real');
  const flipped = code.slice(0, 40) + (code[40] === 'A' ? 'B' : 'A') + code.slice(41);
  const rf = await b.cli('join', flipped);
  assert.equal(rf.code, 1);
  oneLine(rf);

  const short = await a.json<{ code: string }>('invite', 'Real', '--expires', '1s');
  await new Promise((r) => setTimeout(r, 1500));
  const re = await b.cli('join', short.code);
  assert.equal(re.code, 3, re.stderr);
  oneLine(re);
  assert.match(re.stderr, /expired/);

  assert.equal((await b.cli('join', code)).code, 0);
  const c = await Daemon.create({ name: 'carol' });
  await c.start();
  t.after(() => c.destroy());
  const used = await c.cli('join', code);
  assert.equal(used.code, 3, used.stderr);
  oneLine(used);
  assert.match(used.stderr, /already been used/);

  const big = await a.cli('chat', 'send', 'Real', 'x'.repeat(17 * 1024));
  assert.equal(big.code, 1);
  oneLine(big);

  // A guest may not invite: not permitted, exit 3.
  const g = await a.json<{ code: string }>('invite', 'Real', '--role', 'guest');
  await c.json('join', g.code);
  const refused = await c.cli('invite', 'Real');
  assert.equal(refused.code, 3, refused.stderr);
  oneLine(refused);

  await a.stop();
  const down = await a.cli('chat', 'log', 'Real');
  assert.equal(down.code, 2);
  oneLine(down);
});

test('trellis start on a listen address in use: exit 1 and one line saying so', { timeout: 60_000 }, async (t) => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.after(() => { busy.close(); });
  const port = (busy.address() as AddressInfo).port;
  const home = mkdtempSync(join(tmpdir(), 'trellis-busy-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const r = await cli(home, ['start', '--name', 'busy', '--no-mdns', '--api', '127.0.0.1:0', '--listen', `/ip4/127.0.0.1/tcp/${port}`]);
  assert.equal(r.code, 1, r.stderr);
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.match(last, new RegExp(`^trellis: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
  assert.doesNotMatch(r.stderr, /\n\s+at |please report/);
});
