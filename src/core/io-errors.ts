// How file-system failures reach users (pure: it only looks at errors). A full disk, a read-only or forbidden folder, a failing
// device are the user's to fix: they get a sentence naming the place and what to do next, with the
// TrellisError code that says so (the CLI's exit status, the API's HTTP status), instead of the
// daemon's "internal error". Anything else is left as it is (a bug, logged as one).
import { TrellisError } from './errors.ts';

/** Errno codes of a full disk or an exhausted quota. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);
const DENIED = new Set(['EACCES', 'EPERM']);

/** The errno code of `err`, if it is a file-system error. */
export function errnoOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * A full disk (or quota), from the file system or from SQLite ("database or disk is full",
 * SQLITE_FULL): the user's to fix, wherever it happened.
 */
export function isDiskFull(err: unknown): boolean {
  const code = errnoOf(err);
  if (code !== undefined) return NO_SPACE.has(code);
  const sqlite = err instanceof Error ? (err as Error & { errcode?: unknown }).errcode : undefined;
  // SQLITE_FULL is 13; extended codes keep it in their low byte.
  return typeof sqlite === 'number' && (sqlite & 0xff) === 13;
}

/** Can only writing have caused it (so it is about where we write, whatever the path says)? */
export function isWriteOnlyFailure(err: unknown): boolean {
  const code = errnoOf(err);
  return code !== undefined && (NO_SPACE.has(code) || code === 'EROFS');
}

/**
 * `err` as a TrellisError when it is a file-system failure in writing `where` that the user can act
 * on; `retry` says how to go on once they have (e.g. "run the same command again"). Anything else
 * comes back unchanged.
 */
export function explainWriteError(err: unknown, where: string, retry: string): unknown {
  if (err instanceof TrellisError) return err;
  const code = errnoOf(err);
  if (code === undefined) return err;
  if (NO_SPACE.has(code)) return new TrellisError('unavailable', `no space left on the disk of ${where}: free some space, then ${retry}`);
  if (DENIED.has(code)) return new TrellisError('forbidden', `permission denied writing ${where}: choose another place, or fix its permissions, then ${retry}`);
  if (code === 'EROFS') return new TrellisError('forbidden', `${where} is on a read-only file system: choose another place, then ${retry}`);
  if (code === 'EIO') return new TrellisError('unavailable', `the disk failed while writing ${where} (I/O error): check it, then ${retry}`);
  return err;
}
