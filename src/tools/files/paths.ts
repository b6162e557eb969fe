// Names of shared files and paths on the local disk. A shared name is a relative path with '/'
// separators; names come from the API and, through manifests, from other members, and each one
// later becomes a path under a destination folder, so anything that could climb out of it, hide
// behind control characters or differ only by Unicode normalisation is refused.
import { isAbsolute, normalize, resolve } from 'node:path';
import { TrellisError } from '../../core/errors.ts';

/** Longest shared name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024;
/** Longest path component, in UTF-8 bytes (the limit of common file systems). */
export const MAX_COMPONENT_BYTES = 255;
/** Deepest nesting of a shared name. */
export const MAX_DEPTH = 64;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE = /^[A-Za-z]:/;

/** Why `name` is not a canonical shared name, or undefined if it is one. */
function refuseCanonical(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (CONTROL.test(name)) return 'the name contains control characters';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (name.normalize('NFC') !== name) return 'the name is not in Unicode normal form C';
  if (name.includes('\\')) return 'the name contains a backslash';
  if (name.startsWith('/') || DRIVE.test(name)) return 'the name is an absolute path';
  const parts = name.split('/');
  if (parts.length > MAX_DEPTH) return `the name is nested deeper than ${MAX_DEPTH} folders`;
  for (const p of parts) {
    if (p === '') return 'the name has an empty path component (a leading, trailing or double "/")';
    if (p === '.' || p === '..') return 'the name contains "." or ".." components';
    if (Buffer.byteLength(p, 'utf8') > MAX_COMPONENT_BYTES) return `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`;
  }
  return undefined;
}

/** True if `name` is exactly a canonical shared name (what manifests from the network must hold). */
export function isCanonicalName(name: unknown): name is string {
  return typeof name === 'string' && refuseCanonical(name) === undefined;
}

/**
 * A shared name from user input: separators become '/', '.' components and repeated or trailing
 * separators go, Unicode is normalised (NFC). Throws TrellisError('invalid') for anything else
 * that is not canonical ('..', absolute paths, control characters, over-long names).
 */
export function normalizeName(input: unknown, what = 'file name'): string {
  if (typeof input !== 'string') throw new TrellisError('invalid', `the ${what} must be a string`);
  if (input.startsWith('/') || input.startsWith('\\') || DRIVE.test(input)) {
    throw new TrellisError('invalid', `the ${what} "${printable(input)}" is an absolute path: shared names are relative, like docs/report.pdf`);
  }
  const parts = input.normalize('NFC').replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.join('/');
  const why = refuseCanonical(name);
  if (why !== undefined) throw new TrellisError('invalid', `invalid ${what} "${printable(input)}": ${why}`);
  return name;
}

/** The last component of a canonical name. */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** A path on this machine given to the API: absolute, without NUL; returned normalised. */
export function localPath(input: unknown, what: string): string {
  if (typeof input !== 'string' || input.length === 0) throw new TrellisError('invalid', `the ${what} must be a non-empty string`);
  if (input.includes('\u0000')) throw new TrellisError('invalid', `the ${what} contains a NUL character`);
  if (input.length > 4096) throw new TrellisError('invalid', `the ${what} is longer than 4096 characters`);
  if (!isAbsolute(input)) {
    throw new TrellisError('invalid', `the ${what} "${printable(input)}" is relative: the daemon needs an absolute path (the CLI resolves relative paths for you)`);
  }
  return resolve(normalize(input));
}

/** For error messages: control characters shown as '?', long text cut. */
export function printable(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
