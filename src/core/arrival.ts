// Arrival checks (docs/PROTOCOL.md §1): what every replica checks before it stores an entry, with
// or without keys. Members' Workspace and relays' BlindReplica both call these, so they refuse
// exactly the same entries: a relay never holds an entry that members would refuse, and the
// reverse. They never change for a given entry (unlike membership verdicts). Pure; crypto via a port.
import { DecodeError, equalBytes, toHex, utf8 } from './bytes.ts';
import type { CausalIndex, Vector } from './causal.ts';
import { checkChain, type ChainProblem } from './chain.ts';
import { decodeEntry, type Entry, EntryKind, ZERO_HASH } from './entry.ts';
import type { EntryCrypto } from './entry-crypto.ts';
import { parseControl, type ControlPayload } from './membership.ts';
import type { VersionVector } from './version-vector.ts';

/** An entry refused on arrival (same shape as the sync layer's Rejection). */
export interface ArrivalRefusal {
  author: string;
  seq: number;
  reason: string;
}

const NO_DEPS: readonly { author: string; seq: number }[] = Object.freeze([]);

export function depsOf(e: Entry): readonly { author: string; seq: number }[] {
  return e.deps.length === 0 ? NO_DEPS : e.deps.map((d) => ({ author: toHex(d.author), seq: d.seq }));
}

/** The public payload of a control entry, or why it is not a valid one. */
export function controlOf(e: Entry): ControlPayload | string {
  let json: unknown;
  try { json = JSON.parse(utf8.decode(e.ciphertext)); } catch { json = undefined; }
  return parseControl(json);
}

export function describeChainProblem(kind: ChainProblem): string {
  switch (kind) {
    case 'gap': return 'seq gap (missing or reordered entries)';
    case 'fork': return 'forked log: same seq, different content';
    case 'broken-chain': return 'prevHash does not match the previous entry';
    case 'bad-signature': return 'bad signature';
  }
}

export interface AuthenticatedBatch {
  /** Entries new to us, authenticated, in the order received. */
  ordered: { e: Entry; hash: Uint8Array }[];
  duplicates: number;
  refused: ArrivalRefusal[];
  /** Highest seq per author present in the batch, whatever became of it: the sender holds those. */
  seen: Map<string, number>;
  /** Entries that contradict what we hold for their author (a fork, or a chain that cannot follow ours). */
  conflicts: Entry[];
}

/**
 * Decodes a received batch and authenticates it per author against our heads: hash chain, one
 * signature per run (core/chain.ts). Throws DecodeError for a malformed entry or one of another
 * workspace (the frame is malformed).
 */
export function authenticateBatch(
  batch: Uint8Array[],
  workspace: Uint8Array,
  heads: VersionVector,
  crypto: EntryCrypto,
  storedHash: (author: Uint8Array, seq: number) => Uint8Array | undefined,
): AuthenticatedBatch {
  const seen = new Map<string, number>();
  const byAuthor = new Map<string, Entry[]>();
  // Runs of entries share an author: converting the same 32 bytes to hex for every entry was a
  // visible share of catch-up time, so remember the last one.
  let lastKey: Uint8Array | undefined;
  let lastHex = '';
  const entries = batch.map((bytes) => {
    const e = decodeEntry(bytes);
    if (!equalBytes(e.workspace, workspace)) throw new DecodeError('entry belongs to another workspace');
    if (lastKey === undefined || !equalBytes(lastKey, e.author)) { lastKey = e.author; lastHex = toHex(e.author); }
    const hex = lastHex;
    if ((seen.get(hex) ?? 0) < e.seq) seen.set(hex, e.seq);
    let list = byAuthor.get(hex);
    if (!list) { list = []; byAuthor.set(hex, list); }
    list.push(e);
    return e;
  });
  const authentic = new Map<Entry, Uint8Array>();
  let duplicates = 0;
  const refused: ArrivalRefusal[] = [];
  const conflicts: Entry[] = [];
  for (const [hex, list] of byAuthor) {
    const head = heads.get(hex) ?? { seq: 0, hash: ZERO_HASH };
    const r = checkChain(list, head, crypto, (seq) => storedHash(list[0].author, seq));
    duplicates += r.duplicates;
    r.accepted.forEach((e, i) => authentic.set(e, r.hashes[i]));
    if (r.problem) {
      refused.push({ author: hex, seq: r.problem.seq, reason: describeChainProblem(r.problem.kind) });
      if (r.problem.kind === 'fork' || r.problem.kind === 'broken-chain') conflicts.push(r.problem.entry);
    }
  }
  const ordered = entries.filter((e) => authentic.has(e)).map((e) => ({ e, hash: authentic.get(e)! }));
  return { ordered, duplicates, refused, seen, conflicts };
}

/** Which keys were introduced (by a create, add or device entry, whatever its verdict) and where. */
export class Introductions {
  private readonly byKey = new Map<string, { author: string; seq: number }[]>();

  /** Records the key a stored control entry introduces, if any. */
  record(c: ControlPayload, authorHex: string, seq: number): void {
    const subject = c.type === 'create' ? authorHex : c.type === 'add' || c.type === 'device' ? c.key : undefined;
    if (subject === undefined) return;
    let list = this.byKey.get(subject);
    if (!list) { list = []; this.byKey.set(subject, list); }
    list.push({ author: authorHex, seq });
  }

  /** Takes back what record() noted for this entry (it was not stored after all). */
  forget(c: ControlPayload, authorHex: string, seq: number): void {
    const subject = c.type === 'create' ? authorHex : c.type === 'add' || c.type === 'device' ? c.key : undefined;
    if (subject === undefined) return;
    const list = this.byKey.get(subject);
    if (!list) return;
    const i = list.findIndex((x) => x.author === authorHex && x.seq === seq);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(subject);
  }

  /** True when `hex` was introduced in the causal past of its own entry at (seq, vv). */
  introducedBefore(hex: string, seq: number, vv: Vector): boolean {
    const intros = this.byKey.get(hex);
    if (!intros) return false;
    return intros.some((i) => i.author === hex ? i.seq <= seq : (vv.get(i.author) ?? 0) >= i.seq);
  }
}

/** What the arrival rule reads of a replica. */
export interface ArrivalView {
  workspaceHex: string;
  heads: VersionVector;
  causal: CausalIndex;
  introductions: Introductions;
  /** Workspace id from a creator key and nonce (crypto lives above core). */
  idFor: (creator: string, nonce: string) => string;
}

/**
 * Why an authenticated entry is refused on arrival, or undefined: deps we lack, an author never
 * introduced in its causal past, a malformed control payload, a create that does not match the
 * workspace id.
 */
export function refuseOnArrival(e: Entry, hex: string, view: ArrivalView): string | undefined {
  for (const d of e.deps) {
    if ((view.heads.get(toHex(d.author))?.seq ?? 0) < d.seq) return 'depends on entries we do not hold';
  }
  if (e.kind === EntryKind.control) {
    const c = controlOf(e);
    if (typeof c === 'string') return c;
    if (c.type === 'create') {
      if (e.seq !== 1 || view.idFor(hex, c.nonce) !== view.workspaceHex) return 'create does not match the workspace id';
      return undefined;
    }
  }
  // Was the author introduced (added, or is the creator) in the entry's causal past? This never
  // changes for a given entry, unlike the full verdict.
  const vv = view.causal.compute(hex, e.seq, depsOf(e));
  if (!view.introductions.introducedBefore(hex, e.seq, vv)) return 'author is not a member';
  return undefined;
}
