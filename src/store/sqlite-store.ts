// Store on SQLite (node:sqlite, built into Node 24): WAL journal, prepared statements, one
// transaction per appended batch. Entries are stored as runs: one row holds a contiguous run of
// one author's entries (up to RUN_MAX), so a 1,000-entry batch costs one row, not a thousand
// (a row per entry was the largest cost of catch-up). Position in insertion order is
// rowid × 2^16 + index in the run.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { toHex } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import { openFailure } from './open-failure.ts';
import type { EntryRow, HeadRow, InviteRow, Store } from './store.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

const SCHEMA_VERSION = 1;
/** WAL growth between background checkpoints. */
const CHECKPOINT_BYTES = 32 * 1024 * 1024;
/** Entries per stored run; also the spacing of positions in insertion order. */
const RUN_MAX = 4096;
const RUN_ORDER = 65_536;

function equalKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The entries of a stored run: each is a u32 length then its bytes. Views, no copies. */
function* splitRun(data: Uint8Array): Generator<Uint8Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let o = 0;
  while (o < data.byteLength) {
    const n = view.getUint32(o);
    yield data.subarray(o + 4, o + 4 + n);
    o += 4 + n;
  }
}

const MIGRATIONS: string[] = [
  `CREATE TABLE workspaces (id BLOB PRIMARY KEY);
   CREATE TABLE keys (workspace BLOB NOT NULL, epoch INTEGER NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (workspace, epoch)) WITHOUT ROWID;
   CREATE TABLE authors (id INTEGER PRIMARY KEY, workspace BLOB NOT NULL, key BLOB NOT NULL, UNIQUE (workspace, key));
   CREATE TABLE runs (author INTEGER NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, hashes BLOB NOT NULL, data BLOB NOT NULL, UNIQUE (author, first_seq));
   CREATE INDEX runs_last ON runs (author, last_seq);
   CREATE TABLE invites (id BLOB PRIMARY KEY, secret BLOB NOT NULL, workspace BLOB NOT NULL, role TEXT NOT NULL, expires INTEGER NOT NULL, used_by BLOB) WITHOUT ROWID;
   CREATE TABLE peer_addrs (key BLOB PRIMARY KEY, addrs TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE forks (workspace BLOB NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL, a BLOB NOT NULL, b BLOB NOT NULL, PRIMARY KEY (workspace, author)) WITHOUT ROWID;`,
];

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly checkpointer: WalCheckpointer;
  /** Entry bytes committed since the last checkpoint request (the WAL grows by about as much). */
  private sinceCheckpoint = 0;
  private readonly authorIds = new Map<string, number>();
  private readonly stmt: Record<string, StatementSync>;

  constructor(path: string) {
    let db: DatabaseSync | undefined;
    try {
      this.db = db = new DatabaseSync(path);
      // Checkpoints run on a thread of their own (wal-checkpointer.ts), every CHECKPOINT_BYTES
      // written; SQLite's autocheckpoint on this connection is only the backstop if that thread fails.
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 50000;');
      this.migrate();
    } catch (err) {
      if (db?.isOpen) db.close();
      throw openFailure(path, err);
    }
    this.checkpointer = new WalCheckpointer(path);
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      addWorkspace: p('INSERT OR IGNORE INTO workspaces (id) VALUES (?)'),
      workspaces: p('SELECT id FROM workspaces ORDER BY rowid'),
      putKey: p('INSERT OR REPLACE INTO keys (workspace, epoch, sealed) VALUES (?, ?, ?)'),
      keys: p('SELECT epoch, sealed FROM keys WHERE workspace = ? ORDER BY epoch'),
      authorId: p('SELECT id FROM authors WHERE workspace = ? AND key = ?'),
      addAuthor: p('INSERT INTO authors (workspace, key) VALUES (?, ?)'),
      insert: p('INSERT INTO runs (author, first_seq, last_seq, hashes, data) VALUES (?, ?, ?, ?, ?)'),
      lastSeq: p('SELECT MAX(last_seq) AS s FROM runs WHERE author = ?'),
      heads: p(`SELECT a.key AS author, r.last_seq AS seq, r.hashes AS hashes FROM authors a
                JOIN runs r ON r.author = a.id
                WHERE a.workspace = ? AND r.last_seq = (SELECT MAX(last_seq) FROM runs WHERE author = a.id)`),
      hashAt: p('SELECT first_seq, hashes FROM runs WHERE author = ? AND first_seq <= ? AND last_seq >= ?'),
      all: p('SELECT r.data AS data FROM runs r JOIN authors a ON a.id = r.author WHERE a.workspace = ? ORDER BY r.rowid'),
      // Two indexed lookups, no sort: the run holding seq n, then the runs that start after it.
      runAt: p('SELECT rowid AS ord, first_seq FROM runs WHERE author = ? AND first_seq <= ? AND last_seq >= ?'),
      runsFrom: p('SELECT rowid AS ord, first_seq FROM runs WHERE author = ? AND first_seq > ? ORDER BY first_seq LIMIT ?'),
      runData: p('SELECT data FROM runs WHERE rowid = ?'),
      putInvite: p('INSERT INTO invites (id, secret, workspace, role, expires, used_by) VALUES (?, ?, ?, ?, ?, ?)'),
      getInvite: p('SELECT id, secret, workspace, role, expires, used_by FROM invites WHERE id = ?'),
      invitesOf: p('SELECT id, secret, workspace, role, expires, used_by FROM invites WHERE workspace = ? ORDER BY expires, id'),
      useInvite: p('UPDATE invites SET used_by = ? WHERE id = ? AND used_by IS NULL'),
      putFork: p('INSERT OR IGNORE INTO forks (workspace, author, seq, a, b) VALUES (?, ?, ?, ?, ?)'),
      forks: p('SELECT author, seq, a, b FROM forks WHERE workspace = ?'),
      setAddrs: p('INSERT OR REPLACE INTO peer_addrs (key, addrs) VALUES (?, ?)'),
      addrs: p('SELECT key, addrs FROM peer_addrs'),
    };
  }

  /**
   * Ends a failed transaction. SQLite itself rolls back on some failures (a full disk, an I/O
   * error): a ROLLBACK then would throw "no transaction is active" and hide the real error.
   */
  private rollback(): void {
    if (this.db.isTransaction) this.db.exec('ROLLBACK');
  }

  private migrate(): void {
    const row = this.db.prepare('PRAGMA user_version').get() as { user_version: number };
    const from = row.user_version;
    if (from > SCHEMA_VERSION) throw new TrellisError('invalid', `the store was written by a newer Trellis (schema ${from}); upgrade Trellis`);
    for (let v = from; v < SCHEMA_VERSION; v++) {
      this.db.exec('BEGIN');
      try {
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
        this.db.exec('COMMIT');
      } catch (err) {
        this.rollback();
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

  removeWorkspace(id: Uint8Array): void {
    this.db.exec('BEGIN');
    try {
      this.db.prepare('DELETE FROM runs WHERE author IN (SELECT id FROM authors WHERE workspace = ?)').run(id);
      for (const table of ['authors', 'keys', 'forks', 'invites']) this.db.prepare(`DELETE FROM ${table} WHERE workspace = ?`).run(id);
      this.db.prepare('DELETE FROM workspaces WHERE id = ?').run(id);
      this.db.exec('COMMIT');
    } catch (err) {
      this.rollback();
      throw err;
    }
    // Cached author ids, last seqs and the last run read may belong to the rows just deleted.
    this.authorIds.clear();
    this.lastRun = undefined;
    this.lastSeqs.clear();
  }

  workspaceIds(): Uint8Array[] {
    return (this.stmt.workspaces.all() as { id: Uint8Array }[]).map((r) => new Uint8Array(r.id));
  }

  putKey(workspace: Uint8Array, epoch: number, sealedKey: Uint8Array): void { this.stmt.putKey.run(workspace, epoch, sealedKey); }

  keys(workspace: Uint8Array): { epoch: number; sealedKey: Uint8Array }[] {
    return (this.stmt.keys.all(workspace) as { epoch: number; sealed: Uint8Array }[]).map((r) => ({ epoch: r.epoch, sealedKey: r.sealed }));
  }

  /** Last stored seq per author id, so appends are checked to extend their log without a query. */
  private readonly lastSeqs = new Map<number, number>();

  private lastSeqOf(authorId: number): number {
    let last = this.lastSeqs.get(authorId);
    if (last === undefined) {
      last = (this.stmt.lastSeq.get(authorId) as { s: number | null }).s ?? 0;
      this.lastSeqs.set(authorId, last);
    }
    return last;
  }

  appendEntries(workspace: Uint8Array, rows: EntryRow[], durable = false): void {
    if (rows.length === 0) return;
    const written = new Map<number, number>();
    // NORMAL (the connection's default) may lose the last commits on power loss, which is harmless
    // for received entries (fetched again); FULL syncs the WAL at commit, for our own entries.
    if (durable) this.db.exec('PRAGMA synchronous = FULL');
    try {
      this.appendInTransaction(workspace, rows, written);
    } finally {
      if (durable) this.db.exec('PRAGMA synchronous = NORMAL');
    }
    for (const [id, seq] of written) this.lastSeqs.set(id, seq);
    for (const r of rows) this.sinceCheckpoint += r.bytes.byteLength + 64;
    if (this.sinceCheckpoint >= CHECKPOINT_BYTES) {
      this.sinceCheckpoint = 0;
      this.checkpointer.request();
    }
  }

  private appendInTransaction(workspace: Uint8Array, rows: EntryRow[], written: Map<number, number>): void {
    this.db.exec('BEGIN');
    try {
      let i = 0;
      while (i < rows.length) {
        // A run: consecutive rows of one author, at most RUN_MAX.
        const author = rows[i].author;
        const id = this.authorId(workspace, author, true)!;
        const expect = (written.get(id) ?? this.lastSeqOf(id)) + 1;
        let j = i;
        let bytes = 0;
        while (j < rows.length && j - i < RUN_MAX && equalKey(rows[j].author, author)) {
          if (rows[j].seq !== expect + (j - i)) throw new Error(`entry ${rows[j].seq} does not extend its log (expected seq ${expect + (j - i)})`);
          bytes += 4 + rows[j].bytes.byteLength;
          j++;
        }
        const hashes = new Uint8Array((j - i) * 32);
        const data = new Uint8Array(bytes);
        const view = new DataView(data.buffer);
        let o = 0;
        for (let k = i; k < j; k++) {
          hashes.set(rows[k].hash, (k - i) * 32);
          view.setUint32(o, rows[k].bytes.byteLength);
          data.set(rows[k].bytes, o + 4);
          o += 4 + rows[k].bytes.byteLength;
        }
        this.stmt.insert.run(id, rows[i].seq, rows[j - 1].seq, hashes, data);
        written.set(id, rows[j - 1].seq);
        i = j;
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.rollback();
      // A rolled-back transaction may have created author ids that no longer exist.
      this.authorIds.clear();
      throw err;
    }
  }

  heads(workspace: Uint8Array): HeadRow[] {
    return (this.stmt.heads.all(workspace) as { author: Uint8Array; seq: number; hashes: Uint8Array }[])
      .map((r) => ({ author: new Uint8Array(r.author), seq: r.seq, hash: r.hashes.slice(r.hashes.byteLength - 32) }));
  }

  hashAt(workspace: Uint8Array, author: Uint8Array, seq: number): Uint8Array | undefined {
    const id = this.authorId(workspace, author, false);
    if (id === undefined) return undefined;
    const row = this.stmt.hashAt.get(id, seq, seq) as { first_seq: number; hashes: Uint8Array } | undefined;
    if (!row) return undefined;
    const at = (seq - row.first_seq) * 32;
    return row.hashes.slice(at, at + 32);
  }

  *allEntries(workspace: Uint8Array): Iterable<Uint8Array> {
    for (const r of this.stmt.all.iterate(workspace) as Iterable<{ data: Uint8Array }>) yield* splitRun(r.data);
  }

  /**
   * The run read last, with where each of its entries starts: a sync session pages through a run
   * 1,000 entries at a time, and reading the whole blob (up to RUN_MAX entries) for every page was
   * most of what serving a catch-up cost. Runs never change once written (removeWorkspace forgets it).
   */
  private lastRun: { ord: number; data: Uint8Array; starts: Uint32Array } | undefined;

  private run(ord: number): { data: Uint8Array; starts: Uint32Array } {
    if (this.lastRun?.ord === ord) return this.lastRun;
    const data = (this.stmt.runData.get(ord) as { data: Uint8Array }).data;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const starts: number[] = [];
    for (let o = 0; o < data.byteLength; o += 4 + view.getUint32(o)) starts.push(o);
    this.lastRun = { ord, data, starts: Uint32Array.from(starts) };
    return this.lastRun;
  }

  readAfter(workspace: Uint8Array, author: Uint8Array, afterSeq: number, limit: number): { seq: number; order: number; bytes: Uint8Array }[] {
    const id = this.authorId(workspace, author, false);
    if (id === undefined) return [];
    const out: { seq: number; order: number; bytes: Uint8Array }[] = [];
    const take = (r: { ord: number; first_seq: number }): boolean => {
      const { data, starts } = this.run(r.ord);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let k = Math.max(0, afterSeq + 1 - r.first_seq); k < starts.length; k++) {
        const o = starts[k];
        out.push({ seq: r.first_seq + k, order: r.ord * RUN_ORDER + k, bytes: data.subarray(o + 4, o + 4 + view.getUint32(o)) });
        if (out.length >= limit) return false;
      }
      return true;
    };
    const holding = this.stmt.runAt.get(id, afterSeq + 1, afterSeq + 1) as { ord: number; first_seq: number } | undefined;
    let next = afterSeq;
    if (holding) {
      if (!take(holding)) return out;
      next = out.length > 0 ? out[out.length - 1].seq : afterSeq;
    }
    // Stepped lazily (the index gives the order, no sort), so only the rows needed are read.
    for (const r of this.stmt.runsFrom.iterate(id, next, limit) as Iterable<{ ord: number; first_seq: number }>) {
      if (!take(r)) break;
    }
    return out;
  }

  putFork(workspace: Uint8Array, author: Uint8Array, seq: number, a: Uint8Array, b: Uint8Array): void {
    this.stmt.putFork.run(workspace, author, seq, a, b);
  }

  forks(workspace: Uint8Array): { author: Uint8Array; seq: number; a: Uint8Array; b: Uint8Array }[] {
    return (this.stmt.forks.all(workspace) as { author: Uint8Array; seq: number; a: Uint8Array; b: Uint8Array }[])
      .map((r) => ({ author: new Uint8Array(r.author), seq: r.seq, a: new Uint8Array(r.a), b: new Uint8Array(r.b) }));
  }

  putInvite(i: InviteRow): void { this.stmt.putInvite.run(i.id, i.secret, i.workspace, i.role, i.expires, i.usedBy ?? null); }

  getInvite(id: Uint8Array): InviteRow | undefined {
    const r = this.stmt.getInvite.get(id) as InviteDbRow | undefined;
    return r ? inviteRow(r) : undefined;
  }

  invitesOf(workspace: Uint8Array): InviteRow[] {
    return (this.stmt.invitesOf.all(workspace) as unknown as InviteDbRow[]).map(inviteRow);
  }

  useInvite(id: Uint8Array, by: Uint8Array): boolean {
    return Number(this.stmt.useInvite.run(by, id).changes) === 1;
  }

  setPeerAddrs(peerKey: Uint8Array, addrs: string[]): void { this.stmt.setAddrs.run(peerKey, JSON.stringify(addrs)); }

  peerAddrs(): { key: Uint8Array; addrs: string[] }[] {
    return (this.stmt.addrs.all() as { key: Uint8Array; addrs: string }[]).map((r) => ({ key: new Uint8Array(r.key), addrs: JSON.parse(r.addrs) as string[] }));
  }

  close(): void {
    this.checkpointer.close();
    if (this.db.isOpen) this.db.close();
  }
}

interface InviteDbRow { id: Uint8Array; secret: Uint8Array; workspace: Uint8Array; role: string; expires: number; used_by: Uint8Array | null }

function inviteRow(r: InviteDbRow): InviteRow {
  return { id: new Uint8Array(r.id), secret: new Uint8Array(r.secret), workspace: new Uint8Array(r.workspace), role: r.role, expires: r.expires, ...(r.used_by ? { usedBy: new Uint8Array(r.used_by) } : {}) };
}

