// Joins a joiner left pending (queued at a relay, inviter offline): kept in `pending-joins.json`
// in the home directory (mode 0600: the codes hold invitation secrets), so that a later start
// completes them. Small and rarely written: one JSON file, replaced atomically.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PENDING_JOINS_FILE = 'pending-joins.json';
const MAX_PENDING = 100;

export interface PendingJoinRecord {
  /** The invitation code, as given. */
  code: string;
  /** When the request was first queued (ms). */
  since: number;
}

export class PendingJoinsFile {
  private readonly path: string;
  private readonly log: (line: string) => void;

  constructor(home: string, log: (line: string) => void) {
    this.path = join(home, PENDING_JOINS_FILE);
    this.log = log;
  }

  read(): PendingJoinRecord[] {
    if (!existsSync(this.path)) return [];
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as { joins?: unknown };
      if (!Array.isArray(raw.joins)) throw new Error('no list of joins');
      return raw.joins.filter((j): j is PendingJoinRecord => typeof j === 'object' && j !== null
        && typeof (j as PendingJoinRecord).code === 'string' && (j as PendingJoinRecord).code.length < 8192
        && Number.isSafeInteger((j as PendingJoinRecord).since)).slice(0, MAX_PENDING);
    } catch (err) {
      this.log(`join: ${this.path} is damaged (${(err as Error).message}); pending joins in it are forgotten`);
      return [];
    }
  }

  private write(joins: PendingJoinRecord[]): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, joins }) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  add(code: string): void {
    const joins = this.read().filter((j) => j.code !== code);
    if (joins.length >= MAX_PENDING) throw new Error(`at most ${MAX_PENDING} joins can be pending`);
    this.write([...joins, { code, since: Date.now() }]);
  }

  remove(code: string): void {
    const joins = this.read();
    const rest = joins.filter((j) => j.code !== code);
    if (rest.length !== joins.length) this.write(rest);
  }
}
