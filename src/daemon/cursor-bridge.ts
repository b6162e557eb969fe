// Editor cursors of members on other devices. A browser's awareness state (its name, colour and
// cursor in a note) reaches other daemons through presence (peer.setPresence with `cursor`:
// sealed, signed, never logged); what other members' presence says is turned back into awareness
// entries for this daemon's browsers.
//
// What arrives is another member's word about their own cursor, so only the cursor is taken from
// it: the name shown is the member's name from the workspace's membership, and the colour must be
// a plain #rrggbb. Each member gets one fixed awareness client id, derived from their key.
import type { MemberInfo } from '../peer-api.ts';
import type { AwarenessEntry } from './awareness-update.ts';

/** Most of what one awareness state of a note editor holds; presence carries at most this. */
export const MAX_CURSOR_DATA = 1200;
/** Browsers drop awareness not renewed for 30 s; cursors of remote members are renewed sooner. */
export const RENEW_MS = 10_000;

/** The presence cursor for a browser's awareness state; undefined when it has none worth sharing. */
export function cursorData(json: string): string | undefined {
  if (json === 'null' || json.length > MAX_CURSOR_DATA) return undefined;
  try {
    const state = JSON.parse(json) as { cursor?: unknown } | null;
    return state !== null && typeof state === 'object' && state.cursor != null ? json : undefined;
  } catch {
    return undefined;
  }
}

const isPosition = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The awareness state shown for a member: their cursor, under their own name. */
function stateOf(member: MemberInfo, data: string): string | undefined {
  let parsed: unknown;
  try { parsed = JSON.parse(data); } catch { return undefined; }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { user, cursor } = parsed as { user?: { color?: unknown }; cursor?: { anchor?: unknown; head?: unknown } };
  if (typeof cursor !== 'object' || cursor === null || !isPosition(cursor.anchor) || !isPosition(cursor.head)) return undefined;
  const color = typeof user?.color === 'string' && /^#[0-9a-fA-F]{6}$/.test(user.color) ? user.color : '#8e4ec6';
  return JSON.stringify({ user: { name: member.name, color }, cursor: { anchor: cursor.anchor, head: cursor.head } });
}

/** A stable awareness client id for a member (Yjs client ids are 32-bit numbers). */
function clientIdOf(key: string): number {
  return Number.parseInt(key.slice(0, 8), 16) >>> 0;
}

/** The remote members' cursors in one note, as awareness entries for its browsers. */
export class RemoteCursors {
  readonly #note: string;
  readonly #shown = new Map<string, AwarenessEntry>();

  constructor(note: string) {
    this.#note = note;
  }

  /** Entries that changed given the members' presence now (new, moved, gone). */
  update(members: readonly MemberInfo[]): AwarenessEntry[] {
    const changes: AwarenessEntry[] = [];
    const seen = new Set<string>();
    for (const m of members) {
      if (m.cursor?.doc !== this.#note) continue;
      const json = stateOf(m, m.cursor.data);
      if (json === undefined) continue;
      seen.add(m.key);
      const old = this.#shown.get(m.key);
      if (old?.json === json) continue;
      const entry = { clientId: clientIdOf(m.key), clock: (old?.clock ?? 0) + 1, json };
      this.#shown.set(m.key, entry);
      changes.push(entry);
    }
    for (const [key, old] of this.#shown) {
      if (seen.has(key)) continue;
      this.#shown.delete(key);
      changes.push({ clientId: old.clientId, clock: old.clock + 1, json: 'null' });
    }
    return changes;
  }

  /** The same states with newer clocks, so browsers keep showing them. */
  renew(): AwarenessEntry[] {
    for (const [key, e] of this.#shown) this.#shown.set(key, { ...e, clock: e.clock + 1 });
    return [...this.#shown.values()];
  }

  current(): AwarenessEntry[] {
    return [...this.#shown.values()];
  }
}
