// Bad input to the `trellis` CLI, run as real child processes with a temporary home: each case
// exits with the documented status and one line on stderr, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CHAT_BYTES } from '../../src/peer-api.ts';
import { oneErrorLine, runCli } from './run-cli.ts';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const home = mkdtempSync(join(tmpdir(), 'trellis-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** The id of a process that has exited, so no process answers to it. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('thin-client commands without a daemon exit 2 with one line that says how to start it', async (t) => {
  const home = tempHome(t);
  for (const args of [['status'], ['status', '--json'], ['workspace', 'list'], ['workspace', 'create', 'x'], ['members', 'ws'],
    ['chat', 'log', 'ws'], ['chat', 'send', 'ws', 'hi'], ['invite', 'ws'], ['join', 'trellis1-abc'], ['stop']]) {
    const r = await runCli(args, { home });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(oneErrorLine(r), /the daemon is not running: start it with `trellis start`/);
    assert.equal(r.stdout, '');
  }
});

test('a stale api.json (dead pid, or nothing listening) still means "not running": exit 2', async (t) => {
  const home = tempHome(t);
  const token = 'a'.repeat(64);
  writeFileSync(join(home, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${await closedPort()}`, token, pid: await deadPid() }));
  let r = await runCli(['status'], { home });
  assert.equal(r.code, 2);
  oneErrorLine(r);
  // A live pid (this test process) but a closed port: the connection is refused.
  writeFileSync(join(home, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${await closedPort()}`, token, pid: process.pid }));
  r = await runCli(['workspace', 'list', '--json'], { home });
  assert.equal(r.code, 2);
  assert.match(oneErrorLine(r), /not running/);
  writeFileSync(join(home, 'api.json'), '{ damaged');
  r = await runCli(['status'], { home });
  assert.equal(r.code, 2);
  oneErrorLine(r);
});

test('init creates identity.json with mode 0600, prints the key, and refuses a second init', async (t) => {
  const home = join(tempHome(t), 'new-home');
  const r = await runCli(['init', '--name', 'Alice'], { home });
  assert.equal(r.code, 0, r.stderr);
  const path = join(home, 'identity.json');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const key = (JSON.parse(readFileSync(path, 'utf8')) as { signing: { publicKey: string } }).signing.publicKey;
  assert.ok(r.stdout.includes(key), 'prints the public key');
  assert.doesNotMatch(r.stdout + r.stderr, /secret/i);

  const again = await runCli(['init', '--name', 'Bob'], { home });
  assert.equal(again.code, 1);
  assert.match(oneErrorLine(again), /already exists/);
  assert.match(readFileSync(path, 'utf8'), /"Alice"/);

  const json = await runCli(['init', '--name', 'Carol', '--json'], { home: join(home, 'other') });
  assert.equal(json.code, 0);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object), ['name', 'key']);
});

test('init with a bad name exits 1 with one line', async (t) => {
  const home = tempHome(t);
  for (const name of ['', '   ', 'x'.repeat(101), 'a\u0007b']) {
    const r = await runCli(['init', '--name', name], { home });
    assert.equal(r.code, 1, JSON.stringify(name));
    oneErrorLine(r);
  }
  assert.equal(existsSync(join(home, 'identity.json')), false);
});

test('--home works before and after the subcommand, and beats $TRELLIS_HOME', async (t) => {
  const base = tempHome(t);
  const env = join(base, 'env');
  const before = join(base, 'before');
  const after = join(base, 'after');
  assert.equal((await runCli(['--home', before, 'init', '--name', 'A'], { home: env })).code, 0);
  assert.equal((await runCli(['init', '--name', 'B', '--home', after], { home: env })).code, 0);
  assert.ok(existsSync(join(before, 'identity.json')));
  assert.ok(existsSync(join(after, 'identity.json')));
  assert.equal(existsSync(join(env, 'identity.json')), false);
  // $TRELLIS_HOME applies without --home.
  assert.equal((await runCli(['init', '--name', 'C'], { home: env })).code, 0);
  assert.ok(existsSync(join(env, 'identity.json')));
  // And on a thin client, after a nested subcommand: the error names that home.
  const r = await runCli(['workspace', 'list', '--home', after], { home: env });
  assert.equal(r.code, 2);
  assert.ok(oneErrorLine(r).includes(after));
});

test('unknown commands and options, missing or extra arguments exit 1 with one line', async (t) => {
  const home = tempHome(t);
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['statu'], /did you mean status/],
    [[], /no command given/],
    [['workspace'], /needs a subcommand/],
    [['workspace', 'create'], /missing required argument 'name'/],
    [['members'], /missing required argument 'ws'/],
    [['chat', 'send', 'ws'], /missing required argument 'text'/],
    [['join'], /missing required argument/],
    [['status', '--bogus'], /unknown option '--bogus'/],
    [['status', 'extra'], /too many arguments/],
    [['init'], /required option '--name/],
    [['invite', 'ws', '--role', 'owner'], /Allowed choices/],
    [['--home'], /argument missing/],
    [['join', 'two words'], /one word/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args, { home });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(oneErrorLine(r), pattern, args.join(' '));
  }
});

test('an invalid --expires exits 1 before any daemon is contacted', async (t) => {
  const home = tempHome(t);
  for (const expires of ['3q', '7', 'd', '0d', '-1h', '400d', '1.5h', '']) {
    const r = await runCli(['invite', 'ws', '--expires', expires], { home });
    assert.equal(r.code, 1, `--expires ${JSON.stringify(expires)}: ${r.stderr}`);
    assert.match(oneErrorLine(r), /--expires/);
  }
});

test('chat text over the size limit exits 1 before any daemon is contacted', async (t) => {
  const home = tempHome(t);
  for (const text of ['a'.repeat(MAX_CHAT_BYTES + 1), 'é'.repeat(MAX_CHAT_BYTES / 2 + 1)]) {
    const r = await runCli(['chat', 'send', 'ws', text], { home });
    assert.equal(r.code, 1);
    assert.match(oneErrorLine(r), /over the limit of 16384 bytes/);
  }
  const empty = await runCli(['chat', 'send', 'ws', '  '], { home });
  assert.equal(empty.code, 1);
  oneErrorLine(empty);
});

// A home without identity and without --name is no error any more: the daemon starts in onboarding
// mode and the web UI asks for the name (test/web/workspace-flow.test.ts).
test('start refuses a non-loopback --api and a bad multiaddr', async (t) => {
  const home = tempHome(t);
  for (const [args, pattern] of [
    [['start', '--api', '0.0.0.0:7420'], /refusing to serve the API/],
    [['start', '--api', '192.168.1.5:0'], /refusing to serve the API/],
    [['start', '--api', '127.0.0.1:99999'], /port/],
    [['start', '--listen', 'tcp:4001'], /not a multiaddr/],
  ] as [string[], RegExp][]) {
    const r = await runCli(args, { home });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(oneErrorLine(r), pattern);
  }
  assert.equal(existsSync(join(home, 'identity.json')), false);
  assert.equal(existsSync(join(home, 'api.json')), false);
});

test('--help and --version print to stdout and exit 0', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: trellis/);
  assert.match(help.stdout, /workspace/);
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

test('thin-client commands load neither libp2p, libsodium, SQLite, zod nor ws (fast start-up)', async (t) => {
  const home = tempHome(t);
  // A module hook in the child reports every module it loads.
  const hook = 'data:text/javascript,' + encodeURIComponent(
    'import { registerHooks } from "node:module";'
    + 'registerHooks({ load(url, ctx, next) { process.stderr.write("LOADED " + url + "\\n"); return next(url, ctx); } });');
  const r = await runCli(['status'], { home, nodeArgs: ['--import', hook] });
  assert.equal(r.code, 2);
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  assert.ok(loaded.some((u) => u.endsWith('/src/cli/program.ts')), 'the hook saw the CLI load');
  const heavy = loaded.filter((u) => /libp2p|sodium|node:sqlite|\/zod\/|\/ws\/|\/src\/peer\.ts$|yjs/.test(u));
  assert.deepEqual(heavy, []);
});
