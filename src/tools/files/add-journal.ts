// Which chunks an `add` in progress has stored, so that an add cut short by a crash or a kill
// does not leave its chunks in the store for ever. Every add seals with a fresh file key, so its
// chunks are its own: nothing else can ever refer to them unless its manifest entry was written.
// The next start reads the journals left behind: an add whose version is in the manifest finished
// (only its journal is removed); any other add's chunks are removed with it.
//
// One small file per add: <home>/files/adding/<random>.add, the workspace id on the first line,
// then one chunk hash per line, written before the chunk is. Not synced: a power loss may drop the
// tail of a journal (and, as they are synced only at the end of the add, the chunks it named);
// what a crash or kill of the process leaves is complete.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const WS_HEX = /^[0-9a-f]{32,64}$/;
const HASH_HEX = /^[0-9a-f]{64}$/;
const SUFFIX = '.add';

/** An add that did not finish: its workspace and the chunks it had stored. */
export interface LeftOver {
  workspace: string;
  chunks: string[];
  /** Forget it (its chunks are dealt with). */
  remove(): void;
}

/** The journal of one add in progress. */
export class AddRecord {
  private fd: number | undefined;
  private readonly path: string;

  constructor(path: string, workspace: string) {
    this.path = path;
    this.fd = openSync(path, 'wx', 0o600);
    writeSync(this.fd, `${workspace}\n`);
  }

  /** A chunk of this add is about to be stored. */
  storing(hash: string): void {
    if (this.fd !== undefined) writeSync(this.fd, `${hash}\n`);
  }

  /** The add finished (its version is in the manifest) or was undone (its chunks removed). */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.path, { force: true });
  }
}

export class AddJournal {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  begin(workspace: string): AddRecord {
    return new AddRecord(join(this.dir, `${randomBytes(8).toString('hex')}${SUFFIX}`), workspace);
  }

  /**
   * Journals of adds that did not finish (read before any add of this run begins). A journal
   * that is not ours to read (a stray file, damage) is left alone and not reported.
   */
  leftOver(): LeftOver[] {
    const out: LeftOver[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(SUFFIX)) continue;
      const path = join(this.dir, name);
      let lines: string[];
      try { lines = readFileSync(path, 'utf8').split('\n'); } catch { continue; }
      const workspace = lines[0] ?? '';
      if (!WS_HEX.test(workspace)) continue;
      // A line cut short (a power loss) is skipped: its chunk, if it was stored at all, stays.
      out.push({ workspace, chunks: lines.slice(1).filter((l) => HASH_HEX.test(l)), remove: () => rmSync(path, { force: true }) });
    }
    return out;
  }
}
