// Members as tools refer to them: by key (64 hex) in documents, by name or key when people type them.
import { TrellisError } from '../../core/errors.ts';
import type { DocAccess } from '../doc-access.ts';

/** The key of the member that `ref` names: a member's key, or a name that exactly one member has. */
export function resolveMember(access: DocAccess, ws: string, ref: string, what = 'member'): string {
  const r = typeof ref === 'string' ? ref.trim() : '';
  const members = access.memberList(ws);
  const hint = 'see `trellis members WS`';
  if (r === '') throw new TrellisError('invalid', `the ${what} must be a member's name or key (${hint})`);
  const lower = r.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(lower)) {
    if (members.some((m) => m.key === lower)) return lower;
    throw new TrellisError('invalid', `no member of this workspace has the key ${lower.slice(0, 16)}… (${hint})`);
  }
  const named = members.filter((m) => m.name === r);
  if (named.length === 1) return named[0].key;
  if (named.length > 1) throw new TrellisError('invalid', `${named.length} members are named "${r}": give the ${what}'s key instead (${hint})`);
  throw new TrellisError('invalid', `no member named "${r.slice(0, 60)}" in this workspace (${hint})`);
}

/** Key → name of the current members, for showing who wrote what. */
export function memberNames(access: DocAccess, ws: string): Map<string, string> {
  return new Map(access.memberList(ws).map((m) => [m.key, m.name]));
}
