// Store on SQLite (node:sqlite, built into Node 24): WAL journal, prepared statements, one
// transaction per appended batch.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { toHex } from '../core/bytes.ts';
import type { EntryRow, HeadRow, InviteRow, Store } from './store.ts';

const SCHEMA_VERSION = 1;

const MIGRATIONS: string[] = [
  `CREATE TABLE workspaces (id BLOB PRIMARY KEY);
   CREATE TABLE keys (workspace BLOB NOT NULL, epoch INTEGER NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (workspace, epoch)) WITHOUT ROWID;
   CREATE TABLE authors (id INTEGER PRIMARY KEY, workspace BLOB NOT NULL, key BLOB NOT NULL, UNIQUE (workspace, key));
   CREATE TABLE entries (author INTEGER NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, data BLOB NOT NULL, UNIQUE (author, seq));
   CREATE TABLE invites (id BLOB PRIMARY KEY, secret BLOB NOT NULL, workspace BLOB NOT NULL, role TEXT NOT NULL, expires INTEGER NOT NULL, used_by BLOB) WITHOUT ROWID;
   CREATE TABLE peer_addrs (key BLOB PRIMARY KEY, addrs TEXT NOT NULL) WITHOUT ROWID;`,
];

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly authorIds = new Map<string, number>();
  private readonly stmt: Record<string, StatementSync>;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.migrate();
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      addWorkspace: p('INSERT OR IGNORE INTO workspaces (id) VALUES (?)'),
      workspaces: p('SELECT id FROM workspaces ORDER BY rowid'),
      putKey: p('INSERT OR REPLACE INTO keys (workspace, epoch, sealed) VALUES (?, ?, ?)'),
      keys: p('SELECT epoch, sealed FROM keys WHERE workspace = ? ORDER BY epoch'),
      authorId: p('SELECT id FROM authors WHERE workspace = ? AND key = ?'),
      addAuthor: p('INSERT INTO authors (workspace, key) VALUES (?, ?)'),
      insert: p('INSERT INTO entries (author, seq, hash, data) VALUES (?, ?, ?, ?)'),
      heads: p(`SELECT a.key AS author, e.seq AS seq, e.hash AS hash FROM authors a
                JOIN entries e ON e.author = a.id
                WHERE a.workspace = ? AND e.seq = (SELECT MAX(seq) FROM entries WHERE author = a.id)`),
      hashAt: p('SELECT hash FROM entries WHERE author = ? AND seq = ?'),
      all: p('SELECT e.data AS data FROM entries e JOIN authors a ON a.id = e.author WHERE a.workspace = ? ORDER BY e.rowid'),
      readAfter: p('SELECT seq, rowid AS ord, data FROM entries WHERE author = ? AND seq > ? ORDER BY seq LIMIT ?'),
      putInvite: p('INSERT INTO invites (id, secret, workspace, role, expires, used_by) VALUES (?, ?, ?, ?, ?, ?)'),
      getInvite: p('SELECT id, secret, workspace, role, expires, used_by FROM invites WHERE id = ?'),
      useInvite: p('UPDATE invites SET used_by = ? WHERE id = ? AND used_by IS NULL'),
      setAddrs: p('INSERT OR REPLACE INTO peer_addrs (key, addrs) VALUES (?, ?)'),
      addrs: p('SELECT key, addrs FROM peer_addrs'),
    };
  }

  private migrate(): void {
    const row = this.db.prepare('PRAGMA user_version').get() as { user_version: number };
    const from = row.user_version;
    if (from > SCHEMA_VERSION) throw new Error(`the store was written by a newer Trellis (schema ${from}); upgrade Trellis`);
    for (let v = from; v < SCHEMA_VERSION; v++) {
      this.db.exec('BEGIN');
      try {
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
        this.db.exec('COMMIT');
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    }
  }

  private authorId(workspace: Uint8Array, author: Uint8Array, create: boolean): number | undefined {
    const k = toHex(workspace) + toHex(author);
    let id = this.authorIds.get(k);
    if (id !== undefined) return id;
    const row = this.stmt.authorId.get(workspace, author) as { id: number } | undefined;
    if (row) id = row.id;
    else if (create) id = Number(this.stmt.addAuthor.run(workspace, author).lastInsertRowid);
    if (id !== undefined) this.authorIds.set(k, id);
    return id;
  }

  addWorkspace(id: Uint8Array): void { this.stmt.addWorkspace.run(id); }

  workspaceIds(): Uint8Array[] {
    return (this.stmt.workspaces.all() as { id: Uint8Array }[]).map((r) => new Uint8Array(r.id));
  }

  putKey(workspace: Uint8Array, epoch: number, sealedKey: Uint8Array): void { this.stmt.putKey.run(workspace, epoch, sealedKey); }

  keys(workspace: Uint8Array): { epoch: number; sealedKey: Uint8Array }[] {
    return (this.stmt.keys.all(workspace) as { epoch: number; sealed: Uint8Array }[]).map((r) => ({ epoch: r.epoch, sealedKey: r.sealed }));
  }

  appendEntries(workspace: Uint8Array, rows: EntryRow[]): void {
    if (rows.length === 0) return;
    this.db.exec('BEGIN');
    try {
      for (const r of rows) this.stmt.insert.run(this.authorId(workspace, r.author, true)!, r.seq, r.hash, r.bytes);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      // A rolled-back transaction may have created author ids that no longer exist.
      this.authorIds.clear();
      throw err;
    }
  }

  heads(workspace: Uint8Array): HeadRow[] {
    return (this.stmt.heads.all(workspace) as { author: Uint8Array; seq: number; hash: Uint8Array }[])
      .map((r) => ({ author: new Uint8Array(r.author), seq: r.seq, hash: new Uint8Array(r.hash) }));
  }

  hashAt(workspace: Uint8Array, author: Uint8Array, seq: number): Uint8Array | undefined {
    const id = this.authorId(workspace, author, false);
    if (id === undefined) return undefined;
    const row = this.stmt.hashAt.get(id, seq) as { hash: Uint8Array } | undefined;
    return row ? new Uint8Array(row.hash) : undefined;
  }

  *allEntries(workspace: Uint8Array): Iterable<Uint8Array> {
    for (const r of this.stmt.all.iterate(workspace) as Iterable<{ data: Uint8Array }>) yield r.data;
  }

  readAfter(workspace: Uint8Array, author: Uint8Array, afterSeq: number, limit: number): { seq: number; order: number; bytes: Uint8Array }[] {
    const id = this.authorId(workspace, author, false);
    if (id === undefined) return [];
    return (this.stmt.readAfter.all(id, afterSeq, limit) as { seq: number; ord: number; data: Uint8Array }[])
      .map((r) => ({ seq: r.seq, order: r.ord, bytes: r.data }));
  }

  putInvite(i: InviteRow): void { this.stmt.putInvite.run(i.id, i.secret, i.workspace, i.role, i.expires, i.usedBy ?? null); }

  getInvite(id: Uint8Array): InviteRow | undefined {
    const r = this.stmt.getInvite.get(id) as { id: Uint8Array; secret: Uint8Array; workspace: Uint8Array; role: string; expires: number; used_by: Uint8Array | null } | undefined;
    if (!r) return undefined;
    return { id: new Uint8Array(r.id), secret: new Uint8Array(r.secret), workspace: new Uint8Array(r.workspace), role: r.role, expires: r.expires, ...(r.used_by ? { usedBy: new Uint8Array(r.used_by) } : {}) };
  }

  useInvite(id: Uint8Array, by: Uint8Array): boolean {
    return Number(this.stmt.useInvite.run(by, id).changes) === 1;
  }

  setPeerAddrs(peerKey: Uint8Array, addrs: string[]): void { this.stmt.setAddrs.run(peerKey, JSON.stringify(addrs)); }

  peerAddrs(): { key: Uint8Array; addrs: string[] }[] {
    return (this.stmt.addrs.all() as { key: Uint8Array; addrs: string }[]).map((r) => ({ key: new Uint8Array(r.key), addrs: JSON.parse(r.addrs) as string[] }));
  }

  close(): void { if (this.db.isOpen) this.db.close(); }
}
