// Ids inside tool documents. Instances are documents, so their ids are document ids (16 random
// bytes); items inside a document (tasks, events, topics, replies) need only be unique there, so
// 8 random bytes keep them short enough to type. Ids arrive from users and other members: they
// are checked for shape before use, never trusted.
import { randomBytes } from 'node:crypto';
import { TrellisError } from '../../core/errors.ts';

export const ITEM_ID_CHARS = 16;
/** Shortest prefix accepted for an item id. */
export const MIN_PREFIX_CHARS = 4;

export function newInstanceId(): string {
  return randomBytes(16).toString('hex');
}

export function newItemId(): string {
  return randomBytes(ITEM_ID_CHARS / 2).toString('hex');
}

export const isInstanceId = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{32}$/.test(s);
export const isItemId = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{16}$/.test(s);

/**
 * The item id among `ids` that `ref` names: the whole id or a unique prefix of at least 4 hex
 * characters. `what` names the item in messages ("task"); `hint` says how to list them.
 */
export function findItemId(ids: Iterable<string>, ref: string, what: string, hint: string): string {
  const r = typeof ref === 'string' ? ref.trim().toLowerCase() : '';
  if (!new RegExp(`^[0-9a-f]{${MIN_PREFIX_CHARS},${ITEM_ID_CHARS}}$`).test(r)) {
    throw new TrellisError('invalid', `"${String(ref).slice(0, 40)}" is not a ${what} id: use the ${ITEM_ID_CHARS} hex characters (or at least the first ${MIN_PREFIX_CHARS}) shown by ${hint}`);
  }
  const matches: string[] = [];
  for (const id of ids) {
    if (id === r) return id;
    if (id.startsWith(r)) matches.push(id);
  }
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new TrellisError('invalid', `${matches.length} ${what}s start with "${r}": give more characters of the id`);
  throw new TrellisError('not-found', `no ${what} "${r}" here (see ${hint})`);
}
