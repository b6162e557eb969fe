// `trellis verify WS`: real daemons re-check their whole stored history and print the same
// fingerprint once they hold the same entries; a database whose kept head hashes were damaged is
// reported (exit 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { aliceAndBobInTeam, eventually } from '../helpers/daemons.ts';

interface Verification { workspace: string; entries: number; authors: { name: string; seq: number }[]; problems: unknown[]; forks: number; fingerprint: string }

test('verify: every signature and chain holds, two members print one fingerprint, and damage to the stored heads is reported', { timeout: 90_000 }, async (t) => {
  const { a, b, id } = await aliceAndBobInTeam(t);
  await a.json('chat', 'send', 'Team', 'hello');
  await b.json('chat', 'send', 'Team', 'hi');
  await eventually('both messages everywhere', () => Promise.all([a, b].map((d) => d.json<unknown[]>('chat', 'log', 'Team'))), (logs) => logs.every((l) => l.length === 2));
  const [va, vb] = await eventually('one fingerprint', () => Promise.all([a, b].map((d) => d.json<Verification>('verify', 'Team'))), ([x, y]) => x.fingerprint === y.fingerprint);
  assert.deepEqual([va.workspace, va.problems, va.forks], [id, [], 0]);
  assert.equal(va.entries, vb.entries);
  assert.deepEqual(va.authors.map((x) => x.name).sort(), ['alice', 'bob']);
  assert.match(va.fingerprint, /^[0-9a-f]{64}$/);
  const human = await b.cli('verify', 'Team');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^verified ${vb.entries} entries by 2 author\\(s\\) \\(2 people\\): every signature, hash chain and dependency holds\\n`));
  assert.match(human.stdout, new RegExp(`fingerprint ${vb.fingerprint.slice(0, 8)} ${vb.fingerprint.slice(8, 16)} `));
  // A new entry on one side: the fingerprints differ until it arrives.
  await a.json('chat', 'send', 'Team', 'one more');
  await eventually('one fingerprint again', () => Promise.all([a, b].map((d) => d.json<Verification>('verify', 'Team'))), ([x, y]) => x.fingerprint === y.fingerprint && x.fingerprint !== va.fingerprint);
  const unknown = await a.cli('verify', 'Nope');
  assert.equal(unknown.code, 1);

  // Damage on disk: the head hashes Bob's database keeps beside the entries (what sync advertises).
  await a.stop();
  await b.stop();
  const db = new DatabaseSync(join(b.home, 'trellis.db'));
  db.prepare('UPDATE runs SET hashes = zeroblob(length(hashes))').run();
  db.close();
  await b.start();
  const damaged = await b.cli('verify', 'Team', '--json');
  assert.equal(damaged.code, 1);
  const report = JSON.parse(damaged.stdout) as Omit<Verification, 'problems'> & { problems: { kind: string; detail: string }[] };
  assert.ok(report.problems.length >= 1 && report.problems.every((p) => p.kind === 'stored-head'), damaged.stdout);
  assert.match(report.problems[0].detail, /the database is damaged/);
  assert.match(damaged.stderr, /the history of Team did not verify/);
});
