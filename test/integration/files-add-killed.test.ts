// A daemon killed (SIGKILL) in the middle of `files add` leaves chunks that no version will ever
// list (each add seals with a key of its own). The next start removes them, and only them: the
// chunks of an add whose version reached the manifest stay, even when the add's journal was left
// behind (a kill between the manifest entry and the journal's removal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, Daemon } from '../helpers/daemons.ts';
import { writePrngFile } from '../../bench/files/prng-file.ts';

const MiB = 1024 * 1024;

function chunksIn(home: string): Set<string> {
  const dir = join(home, 'chunks');
  const out = new Set<string>();
  for (const sub of readdirSync(dir)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const f of readdirSync(join(dir, sub))) out.add(f);
  }
  return out;
}

function journals(home: string): string[] {
  const dir = join(home, 'files', 'adding');
  return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
}

test('chunks of an add cut short by a kill are removed at the next start; finished adds keep theirs', { timeout: 120_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-add-killed-'));
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  t.after(async () => { await a.destroy(); rmSync(scratch, { recursive: true, force: true }); });
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');

  // A finished add.
  const small = join(scratch, 'small.bin');
  const smallSha = await writePrngFile(small, 3 * MiB, 7);
  await a.json('files', 'add', 'Team', small);
  const kept = chunksIn(a.home);
  assert.equal(kept.size, 12);
  assert.deepEqual(journals(a.home), [], 'a finished add leaves no journal');

  // An add killed once it has stored some of its chunks.
  const big = join(scratch, 'big.bin');
  await writePrngFile(big, 128 * MiB, 8);
  const adding = cli(a.home, ['files', 'add', 'Team', big], 60_000);
  const proc = a.proc!;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let killedAt = 0;
  for (let i = 0; i < 6000 && killedAt === 0 && proc.exitCode === null; i++) {
    const [journal] = journals(a.home);
    // Its workspace line, then 65 bytes per chunk: kill after about 40 chunks of 512.
    if (journal && statSync(journal).size > 33 + 65 * 40) { proc.kill('SIGKILL'); killedAt = Date.now(); }
    else await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(killedAt > 0, 'the add was under way when the daemon was killed');
  await exited;
  a.proc = undefined;
  const interrupted = await adding;
  assert.notEqual(interrupted.code, 0, 'the interrupted add fails');
  const orphans = [...chunksIn(a.home)].filter((h) => !kept.has(h));
  assert.ok(orphans.length >= 40 && orphans.length < 512, `the killed add left ${orphans.length} chunks`);
  assert.equal(journals(a.home).length, 1);

  // A journal left by a kill just after the manifest entry: its chunks are listed, so they stay.
  mkdirSync(join(a.home, 'files', 'adding'), { recursive: true });
  writeFileSync(join(a.home, 'files', 'adding', '00112233aabbccdd.add'), `${id}\n${[...kept].join('\n')}\n`);

  await a.start();
  assert.deepEqual(chunksIn(a.home), kept, 'only the chunks of the killed add are gone');
  assert.deepEqual(journals(a.home), [], 'both journals were dealt with');
  assert.match(a.output, /removed \d+ chunk\(s\) of an add that did not finish/);
  const listed = await a.json<{ name: string }[]>('files', 'list', 'Team');
  assert.deepEqual(listed.map((f) => f.name), ['small.bin']);
  const copy = join(scratch, 'copy.bin');
  await a.json('files', 'get', 'Team', 'small.bin', copy);
  assert.equal(createHash('sha256').update(readFileSync(copy)).digest('hex'), smallSha);
  // And the file can be added again, in full.
  const again = await a.json<{ added: { name: string; chunks: number }[] }>('files', 'add', 'Team', big);
  assert.deepEqual(again.added.map((f) => [f.name, f.chunks]), [['big.bin', 512]]);
  assert.equal(chunksIn(a.home).size, kept.size + 512);
});
