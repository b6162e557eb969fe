// Opening the SQLite store when something is wrong with its file: the person starting the peer gets
// a sentence saying what and what to do (a TrellisError, so the CLI prints it and exits 1 or 3), not
// "unexpected error". Real files: garbage where the database should be, a folder that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrellisError } from '../../src/core/errors.ts';
import { RelayDb } from '../../src/relay/relay-db.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

test('sqlite store (and relay.db): a damaged file and an impossible path are explained; a good store still opens after', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-store-open-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'trellis.db');
  const good = new SqliteStore(path);
  good.addWorkspace(new Uint8Array(16).fill(7));
  good.close();
  const bytes = Buffer.from('garbage, not a database '.repeat(200));
  const damaged = join(dir, 'damaged.db');
  writeFileSync(damaged, bytes);
  assert.throws(() => new SqliteStore(damaged), (e: unknown) => e instanceof TrellisError && e.code === 'invalid'
    && e.message.startsWith(`${damaged} is damaged or is not a Trellis store (file is not a database): restore it from a backup`));
  const nowhere = join(dir, 'no', 'such', 'folder', 'trellis.db');
  assert.throws(() => new SqliteStore(nowhere), (e: unknown) => e instanceof TrellisError && e.code === 'forbidden'
    && e.message.startsWith(`cannot open ${nowhere} for writing`));
  // A relay's own database says the same.
  assert.throws(() => new RelayDb(damaged), (e: unknown) => e instanceof TrellisError && e.code === 'invalid' && e.message.startsWith(`${damaged} is damaged`));
  const again = new SqliteStore(path);
  assert.equal(again.workspaceIds().length, 1);
  again.close();
});
