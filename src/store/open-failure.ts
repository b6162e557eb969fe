// Why a SQLite database (the peer's store, a relay's relay.db) cannot be opened, for the person
// starting the peer: a damaged file, a full disk or a forbidden folder are theirs to fix, and
// "unexpected error" would not say how.
import { TrellisError } from '../core/errors.ts';
import { isDiskFull } from '../core/io-errors.ts';

/** `err`, met opening the database at `path`, as a TrellisError when it is one of those; else unchanged. */
export function openFailure(path: string, err: unknown): unknown {
  const code = err instanceof Error ? (err as Error & { errcode?: unknown }).errcode : undefined;
  const primary = typeof code === 'number' ? code & 0xff : undefined;
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  // SQLITE_CORRUPT, SQLITE_NOTADB
  if (primary === 11 || primary === 26) {
    return new TrellisError('invalid', `${path} is damaged or is not a Trellis store (${why}): restore it from a backup, or move it aside to start with an empty store (your identity is in identity.json, not in it)`);
  }
  if (isDiskFull(err)) return new TrellisError('unavailable', `the disk that holds ${path} is full: free some space, then start again`);
  // SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM
  if (primary === 14 || primary === 8 || primary === 3) {
    return new TrellisError('forbidden', `cannot open ${path} for writing (${why}): check that its folder exists and that this user may write there`);
  }
  return err;
}
