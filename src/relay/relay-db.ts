// What a relay remembers besides entries (those are in the ordinary Store): workspaces whose
// attachment it verified before it held the entry that shows it, and queued join requests.
// SQLite (node:sqlite) in `relay.db` beside the relay's `trellis.db`; ':memory:' for tests.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { TrellisError } from '../core/errors.ts';
import { openFailure } from '../store/open-failure.ts';

const SCHEMA_VERSION = 1;
const MIGRATIONS: string[] = [
  `CREATE TABLE verified (workspace TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE joins (workspace TEXT NOT NULL, joiner TEXT NOT NULL, invite TEXT NOT NULL, inviter TEXT NOT NULL,
                       request TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, created INTEGER NOT NULL, expires INTEGER NOT NULL,
                       PRIMARY KEY (workspace, joiner, invite)) WITHOUT ROWID;`,
];

/** A join request a relay holds for an inviter who was offline. */
export interface QueuedJoin {
  workspace: string;
  joiner: string;
  invite: string;
  inviter: string;
  /** The joiner's signed request, as JSON (the relay passes it on as it is). */
  request: string;
  state: 'queued' | 'refused';
  /** Why the inviter refused it. */
  reason?: string;
  created: number;
  expires: number;
}

export class RelayDb {
  private readonly db: DatabaseSync;
  private readonly stmt: Record<string, StatementSync>;

  constructor(path: string) {
    let db: DatabaseSync | undefined;
    try {
      this.db = db = new DatabaseSync(path);
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      const from = (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (from > SCHEMA_VERSION) throw new TrellisError('invalid', `relay.db was written by a newer Trellis (schema ${from}); upgrade Trellis`);
      for (let v = from; v < SCHEMA_VERSION; v++) {
        this.db.exec('BEGIN');
        try {
          this.db.exec(MIGRATIONS[v]);
          this.db.exec(`PRAGMA user_version = ${v + 1}`);
          this.db.exec('COMMIT');
        } catch (err) {
          // SQLite may have rolled back by itself (a full disk): then there is nothing to end.
          if (this.db.isTransaction) this.db.exec('ROLLBACK');
          throw err;
        }
      }
    } catch (err) {
      if (db?.isOpen) db.close();
      throw openFailure(path, err);
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      verified: p('SELECT 1 AS x FROM verified WHERE workspace = ?'),
      markVerified: p('INSERT OR IGNORE INTO verified (workspace, at) VALUES (?, ?)'),
      forgetVerified: p('DELETE FROM verified WHERE workspace = ?'),
      putJoin: p(`INSERT INTO joins (workspace, joiner, invite, inviter, request, state, reason, created, expires)
                  VALUES (?, ?, ?, ?, ?, 'queued', NULL, ?, ?)
                  ON CONFLICT (workspace, joiner, invite) DO UPDATE SET request = excluded.request, expires = excluded.expires
                  WHERE joins.state = 'queued'`),
      getJoin: p('SELECT * FROM joins WHERE workspace = ? AND joiner = ? AND invite = ?'),
      queuedJoins: p("SELECT * FROM joins WHERE workspace = ? AND state = 'queued' AND expires > ? ORDER BY created LIMIT ?"),
      // Refused requests do not count: a pest's requests stop blocking others once refused.
      countJoins: p("SELECT COUNT(*) AS n FROM joins WHERE workspace = ? AND state = 'queued'"),
      countInviteJoins: p("SELECT COUNT(*) AS n FROM joins WHERE workspace = ? AND invite = ? AND state = 'queued'"),
      countJoinerJoins: p("SELECT COUNT(*) AS n FROM joins WHERE joiner = ? AND state = 'queued'"),
      refuseJoin: p("UPDATE joins SET state = 'refused', reason = ? WHERE workspace = ? AND joiner = ? AND invite = ?"),
      deleteJoin: p('DELETE FROM joins WHERE workspace = ? AND joiner = ? AND invite = ?'),
      expire: p('DELETE FROM joins WHERE expires <= ?'),
    };
  }

  isVerified(workspace: string): boolean { return this.stmt.verified.get(workspace) !== undefined; }

  markVerified(workspace: string): void { this.stmt.markVerified.run(workspace, Date.now()); }

  forgetVerified(workspace: string): void { this.stmt.forgetVerified.run(workspace); }

  /** Queues a request, or refreshes a still-queued one (a joiner asking again). */
  putJoin(j: Omit<QueuedJoin, 'state' | 'reason'>): void {
    this.stmt.putJoin.run(j.workspace, j.joiner, j.invite, j.inviter, j.request, j.created, j.expires);
  }

  getJoin(workspace: string, joiner: string, invite: string): QueuedJoin | undefined {
    const r = this.stmt.getJoin.get(workspace, joiner, invite) as Record<string, unknown> | undefined;
    return r ? rowToJoin(r) : undefined;
  }

  /** Queued, unexpired requests of a workspace (for any of its managers), oldest first. */
  queuedJoins(workspace: string, limit: number): QueuedJoin[] {
    return (this.stmt.queuedJoins.all(workspace, Date.now(), limit) as Record<string, unknown>[]).map(rowToJoin);
  }

  countJoins(workspace: string): number {
    return (this.stmt.countJoins.get(workspace) as { n: number }).n;
  }

  /** Queued requests that cite one invitation (joiners' keys differ). */
  countInviteJoins(workspace: string, invite: string): number {
    return (this.stmt.countInviteJoins.get(workspace, invite) as { n: number }).n;
  }

  /** Queued requests of one joiner, in every workspace. */
  countJoinerJoins(joiner: string): number {
    return (this.stmt.countJoinerJoins.get(joiner) as { n: number }).n;
  }

  refuseJoin(workspace: string, joiner: string, invite: string, reason: string): void {
    this.stmt.refuseJoin.run(reason, workspace, joiner, invite);
  }

  deleteJoin(workspace: string, joiner: string, invite: string): void {
    this.stmt.deleteJoin.run(workspace, joiner, invite);
  }

  /** Forgets requests past their invitation's expiry. */
  expireJoins(): void { this.stmt.expire.run(Date.now()); }

  close(): void { if (this.db.isOpen) this.db.close(); }
}

function rowToJoin(r: Record<string, unknown>): QueuedJoin {
  return {
    workspace: r.workspace as string, joiner: r.joiner as string, invite: r.invite as string, inviter: r.inviter as string,
    request: r.request as string, state: r.state === 'refused' ? 'refused' : 'queued',
    ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
    created: r.created as number, expires: r.expires as number,
  };
}
