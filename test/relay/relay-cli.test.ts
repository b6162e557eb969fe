// `trellis relay` input checks: one clear line and the documented exit status, before anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneErrorLine, runCli } from '../cli/run-cli.ts';

test('relay commands refuse bad input clearly', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-relay-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const cases: [string[], number, RegExp][] = [
    [['relay', '--quota', '12XB'], 1, /--quota "12XB" is not a size/],
    [['relay', '--quota', '0'], 1, /--quota must be at least 1 byte/],
    [['relay', '--allow', 'bob'], 1, /--allow takes a manager's key/],
    [['relay', '--listen', 'tcp:4001'], 1, /is not a multiaddr/],
    [['relay', 'add', 'Team', 'relay.example.com'], 1, /is not a multiaddr/],
    [['relay', 'list', 'Team'], 2, /daemon is not running/],
    [['relay', 'remove', 'Team'], 1, /missing required argument/],
  ];
  for (const [args, code, message] of cases) {
    const r = await runCli(args, { home });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(oneErrorLine(r), message, args.join(' '));
  }
});

test('a relay refuses to run in a peer\'s home (it would drop the peer\'s workspaces)', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-relay-peerhome-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const { SqliteStore } = await import('../../src/store/sqlite-store.ts');
  new SqliteStore(join(home, 'trellis.db')).close();
  const r = await runCli(['relay', '--api', '127.0.0.1:0'], { home });
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneErrorLine(r), /is a peer's home, not a relay's/);
});
