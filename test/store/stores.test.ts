import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { storeContract } from './store-contract.ts';

storeContract('memory', () => ({ store: new MemoryStore() }));

storeContract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-store-'));
  const path = join(dir, 'trellis.db');
  return { store: new SqliteStore(path), reopen: () => new SqliteStore(path), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});
