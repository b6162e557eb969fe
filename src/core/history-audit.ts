// Verifiable history: re-checks a workspace's whole stored log from scratch, trusting nothing the
// store says. Every entry's signature (not one per run, as sync does), every author's hash chain
// from seq 1, the workspace id, and that every dependency an entry names is held with the very hash
// it names. The result carries a fingerprint of the history: a hash over every author's head, so two
// members who read the same fingerprint hold the same entries (compare it out of band, like a
// safety number). Pure: crypto through the EntryCrypto port.
import { equalBytes, toHex, utf8 } from './bytes.ts';
import { type Entry, signedPart, ZERO_HASH } from './entry.ts';
import type { EntryCrypto } from './entry-crypto.ts';

export type AuditProblemKind = 'bad-signature' | 'gap' | 'broken-chain' | 'other-workspace' | 'missing-dependency' | 'malformed';

export interface AuditProblem { author: string; seq: number; kind: AuditProblemKind; detail: string }

export interface AuditHead { author: string; seq: number; hash: string }

export interface HistoryAudit {
  entries: number;
  heads: AuditHead[];
  problems: AuditProblem[];
  /** Hex hash over the heads, sorted by author: equal fingerprints, equal histories. */
  fingerprint: string;
}

/** Problems reported one by one; beyond, only counted (a badly damaged store must not flood). */
const MAX_PROBLEMS = 100;

/** `entries` in storage order (a causal order: an entry comes after everything it depends on). */
export function auditHistory(workspace: Uint8Array, entries: Iterable<Entry>, crypto: EntryCrypto): HistoryAudit {
  const heads = new Map<string, { seq: number; hash: Uint8Array }>();
  /** Each author's entry hashes by seq, to check the dependencies later entries name. */
  const hashesAt = new Map<string, Uint8Array[]>();
  const problems: AuditProblem[] = [];
  let count = 0;
  let dropped = 0;
  /** Authors whose log broke: one problem each, and how many of their entries follow it unchecked. */
  const broken = new Map<string, { problem: AuditProblem; after: number }>();
  const report = (p: AuditProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p); else dropped++;
    broken.set(p.author, { problem: p, after: 0 });
  };
  for (const e of entries) {
    count++;
    const author = toHex(e.author);
    const b = broken.get(author);
    if (b) { b.after++; continue; }
    if (!equalBytes(e.workspace, workspace)) { report({ author, seq: e.seq, kind: 'other-workspace', detail: 'the entry names another workspace' }); continue; }
    if (!crypto.verify(e.signature, signedPart(e), e.author)) { report({ author, seq: e.seq, kind: 'bad-signature', detail: 'the signature does not match the entry' }); continue; }
    const head = heads.get(author) ?? { seq: 0, hash: ZERO_HASH };
    if (e.seq !== head.seq + 1) { report({ author, seq: e.seq, kind: 'gap', detail: `expected seq ${head.seq + 1} of this author` }); continue; }
    if (!equalBytes(e.prevHash, head.hash)) { report({ author, seq: e.seq, kind: 'broken-chain', detail: 'its previous-entry hash is not the hash of the entry before it' }); continue; }
    for (const d of e.deps) {
      const held = hashesAt.get(toHex(d.author))?.[d.seq - 1];
      if (!held || !equalBytes(held, d.hash)) {
        report({ author, seq: e.seq, kind: 'missing-dependency', detail: `depends on ${toHex(d.author).slice(0, 8)}…'s entry ${d.seq}, which is not held with that hash` });
        break;
      }
    }
    const h = crypto.hash(e.bytes);
    heads.set(author, { seq: e.seq, hash: h });
    let list = hashesAt.get(author);
    if (!list) { list = []; hashesAt.set(author, list); }
    list.push(h);
  }
  for (const { problem, after } of broken.values()) if (after > 0) problem.detail += `; ${after} later entr${after === 1 ? 'y' : 'ies'} of this author not checked`;
  if (dropped > 0) problems.push({ author: '', seq: 0, kind: problems[0].kind, detail: `and ${dropped} more problem(s)` });
  const sorted = [...heads].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([author, h]) => ({ author, seq: h.seq, hash: toHex(h.hash) }));
  const fingerprint = toHex(crypto.hash(utf8.encode(`trellis-history-v1\n${toHex(workspace)}\n${sorted.map((h) => `${h.author} ${h.seq} ${h.hash}`).join('\n')}`)));
  return { entries: count, heads: sorted, problems, fingerprint };
}
