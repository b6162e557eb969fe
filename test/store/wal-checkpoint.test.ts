// The SQLite store checkpoints its WAL on a thread of its own: after a large burst of writes the
// database file holds the data (copied from the WAL) without the main connection ever checkpointing
// (its autocheckpoint is far above this burst), and everything reads back after a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

test('a 48 MB burst is checkpointed into the database file in the background and reads back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-wal-'));
  const path = join(dir, 'trellis.db');
  try {
    const ws = new Uint8Array(16).fill(1);
    const author = new Uint8Array(32).fill(2);
    const store = new SqliteStore(path);
    store.addWorkspace(ws);
    const MB = 1024 * 1024;
    for (let seq = 1; seq <= 48; seq++) {
      store.appendEntries(ws, [{ author, seq, hash: new Uint8Array(32).fill(seq), bytes: new Uint8Array(MB - 100).fill(seq) }]);
    }
    const deadline = Date.now() + 20_000;
    while (statSync(path).size < 30 * MB && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(statSync(path).size >= 30 * MB, `database file ${statSync(path).size} bytes: no background checkpoint`);
    store.close();
    const again = new SqliteStore(path);
    const all = [...again.allEntries(ws)];
    assert.equal(all.length, 48);
    assert.equal(all[47][0], 48);
    assert.equal(again.heads(ws)[0].seq, 48);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
