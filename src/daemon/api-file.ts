// `api.json` in the home directory tells thin clients (CLI, scripts) where the running daemon
// listens and which token it accepts. Mode 0600: the token grants everything the user can do.
// Only node:fs here, because every CLI command reads this file and must start fast.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const API_FILE = 'api.json';

export interface ApiFile {
  /** e.g. http://127.0.0.1:7420 */
  url: string;
  /** 32 random bytes, hex. */
  token: string;
  pid: number;
}

export function apiFilePath(home: string): string {
  return join(home, API_FILE);
}

/** Writes atomically (temp file + rename), so a client never reads half a file. */
export function writeApiFile(home: string, content: ApiFile): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const path = apiFilePath(home);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(content) + '\n', { mode: 0o600 });
  // The mode given at creation is reduced by the umask only, never widened; chmod makes it exact.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The file's content, or undefined when there is no file; throws a plain Error when it is damaged. */
export function readApiFile(home: string): ApiFile | undefined {
  let text: string;
  try {
    text = readFileSync(apiFilePath(home), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { throw new Error(`${apiFilePath(home)} is not valid JSON`); }
  const r = raw as Partial<Record<keyof ApiFile, unknown>>;
  if (typeof r.url !== 'string' || typeof r.token !== 'string' || !/^[0-9a-f]{64}$/.test(r.token)
    || typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid <= 0) {
    throw new Error(`${apiFilePath(home)} is damaged`);
  }
  return { url: r.url, token: r.token, pid: r.pid };
}

/**
 * Removes the file, but only if it still belongs to the daemon holding `token`: a second daemon
 * may have replaced it, and its clients must keep finding it.
 */
export function removeApiFile(home: string, token: string): void {
  try {
    if (readApiFile(home)?.token !== token) return;
  } catch {
    return;
  }
  rmSync(apiFilePath(home), { force: true });
}

/** True if a process with this id exists (signal 0 tests without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
