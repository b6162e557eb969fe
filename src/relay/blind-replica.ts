// BlindReplica: a relay's replica of one workspace. It holds no key and can open nothing, yet it
// checks everything that needs no key before it stores an entry:
//  - the arrival checks every member makes (core/arrival.ts): hash chain, one signature per run,
//    deps held, author introduced in the entry's causal past, control payloads well formed;
//  - membership, from the public control entries (core/membership.ts): an entry whose author is
//    not a member in the state it is judged in (its causal past, plus every valid removal or role
//    change that targets its author and did not see it) is refused, so a removed member cannot
//    push anything written after (or concurrently with) its removal, and a stranger nothing;
//  - a quota of bytes held for the workspace: entries beyond it are refused, nothing stored is lost.
// Entries whose author is a member but that have no effect for another reason (a guest writing a
// document, a control action its role does not permit) are stored, as every member stores them:
// refusing them would leave a gap in that author's log at the relay and block its later entries.
//
// Forks (core/fork-proof.ts): an author that signed two entries that cannot share one log has
// equivocated. The relay builds the proof when a conflicting entry arrives (or takes one from a
// FORK frame), keeps it in its store, voids the author's control entries from the fork on (as
// members do, so its membership gate agrees with theirs), refuses the author's entries from
// there on (nobody would be sent them: sessions stop a forked log before its fork), and hands the
// proof to every session of the workspace, so members who are never online together still learn it.
import { equalBytes, toHex } from '../core/bytes.ts';
import { CausalIndex } from '../core/causal.ts';
import { authenticateBatch, controlOf, depsOf, Introductions, refuseOnArrival, type ArrivalRefusal } from '../core/arrival.ts';
import { decodeEntry, type Entry, EntryKind } from '../core/entry.ts';
import { checkForkProof, findForkProof, type ForkProof, readForkEvidence } from '../core/fork-proof.ts';
import { MembershipResolver, roleOf, type ControlPayload, type MembershipState } from '../core/membership.ts';
import type { VersionVector } from '../core/version-vector.ts';
import { entryCrypto, entryHash } from '../crypto/entry-seal.ts';
import { type EntryRow, type Store, storedEntryAt } from '../store/store.ts';
import type { ForkTracking, IngestReport, Replica } from '../sync/replica.ts';
import { workspaceIdFor } from '../workspace/workspace-id.ts';

/**
 * Control entries may go this far beyond the quota, so that a removal or a detachment still
 * reaches a full relay (if its author's log is complete there).
 */
export const CONTROL_GRACE_BYTES = 1024 * 1024;

export type BlindReplicaEvent =
  /** Entries were stored. */
  | { type: 'entries'; count: number }
  /** Control entries were stored: members, roles or relays may have changed. */
  | { type: 'control' }
  /** A batch from `from` went beyond the quota; the entries that fitted were stored. */
  | { type: 'quota'; from: string; message: string }
  /** A new fork proof (two entries): pass it on to every session. */
  | { type: 'fork'; proof: Uint8Array[] };

export interface BlindReplicaOptions {
  id: Uint8Array;
  store: Store;
  /** Bytes of entries this replica may hold. */
  quota: number;
  log: (line: string) => void;
  /**
   * Provisional replicas (an unknown workspace whose attachment is being checked): beyond the
   * quota, entries are still checked and indexed, so the attachment can be found deep in a long
   * history, but their bytes are dropped (`truncated` turns true), up to `maxEntries` in all.
   */
  verifyBeyondQuota?: { maxEntries: number };
  /** Other bytes held for the workspace that count against the same quota (the relay's file chunks). */
  otherBytes?: () => number;
}

export class BlindReplica implements Replica {
  readonly id: Uint8Array;
  readonly idHex: string;
  private store: Store;
  private quota: number;
  private readonly log: (line: string) => void;
  private readonly resolver: MembershipResolver;
  private readonly causal = new CausalIndex();
  private readonly heads: VersionVector = new Map();
  private readonly introductions = new Introductions();
  private readonly listeners = new Set<(e: BlindReplicaEvent) => void>();
  private readonly changeListeners = new Set<() => void>();
  private held = 0;
  private count = 0;
  private indexed = 0;
  private verifyBeyond: { maxEntries: number } | undefined;
  private readonly otherBytes: () => number;
  private dropped = false;
  /** Relay keys named by a stored `relay` or `unrelay` entry (valid or not). */
  private readonly relayKeysNamed = new Set<string>();
  /** Author (hex) → the proof that it forked its log, with the earliest fork point known. */
  private readonly forkProofs = new Map<string, ForkProof>();

  constructor(opts: BlindReplicaOptions) {
    this.id = opts.id;
    this.idHex = toHex(opts.id);
    this.store = opts.store;
    this.quota = opts.quota;
    this.log = opts.log;
    this.verifyBeyond = opts.verifyBeyondQuota;
    this.otherBytes = opts.otherBytes ?? (() => 0);
    this.resolver = new MembershipResolver(this.idHex, workspaceIdFor);
  }

  /** Bytes of entries held. */
  get bytesHeld(): number { return this.held; }
  get entryCount(): number { return this.count; }
  get quotaBytes(): number { return this.quota; }
  /** True when entries were checked but not held (see `verifyBeyondQuota`): the heads are ahead of the store. */
  get truncated(): boolean { return this.dropped; }
  get state(): MembershipState { return this.resolver.state; }

  isMember(keyHex: string): boolean { return roleOf(this.state, keyHex) !== undefined; }

  /** True when a valid `relay` entry attaches `relayKeyHex` (and no later `unrelay` detached it). */
  attaches(relayKeyHex: string): boolean { return this.state.relays.has(relayKeyHex); }

  /** True when some stored entry attaches or detaches `relayKeyHex`: then `attaches` is the whole truth. */
  names(relayKeyHex: string): boolean { return this.relayKeysNamed.has(relayKeyHex); }

  on(listener: (e: BlindReplicaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private emit(e: BlindReplicaEvent): void {
    for (const l of this.listeners) {
      try { l(e); } catch (err) { this.log(`relay: workspace ${this.idHex.slice(0, 8)}: listener failed: ${(err as Error).message}`); }
    }
  }

  /** Rebuilds the indexes from the store (entries were checked when they were stored). */
  load(): void {
    for (const f of this.store.forks(this.id)) {
      const p = checkForkProof(decodeEntry(f.a), decodeEntry(f.b), entryCrypto);
      if (typeof p !== 'string') this.forkProofs.set(toHex(p.a.author), p);
    }
    for (const bytes of this.store.allEntries(this.id)) this.index(decodeEntry(bytes), entryHash(bytes), true);
    for (const [hex, p] of this.forkProofs) this.resolver.voidFrom(hex, p.seq);
  }

  /**
   * Moves every entry held into `store` (one transaction) and continues there with `quota`: a
   * provisional replica, held in memory, becomes a served one once its attachment is seen.
   */
  moveTo(store: Store, quota: number): void {
    if (this.dropped) throw new Error('a truncated replica cannot move: load the moved entries into a new one');
    this.copyTo(store);
    this.store = store;
    this.quota = quota;
    // Served now: beyond its quota it refuses, it no longer checks without holding.
    this.verifyBeyond = undefined;
  }

  /** Writes every entry held into `store` (one transaction), e.g. the prefix a truncated replica kept. */
  copyTo(store: Store): void {
    const rows: EntryRow[] = [];
    for (const bytes of this.store.allEntries(this.id)) {
      const e = decodeEntry(bytes);
      rows.push({ author: e.author, seq: e.seq, hash: this.hashOf(e, bytes), bytes });
    }
    store.addWorkspace(this.id);
    store.appendEntries(this.id, rows);
    for (const p of this.forkProofs.values()) store.putFork(this.id, p.a.author, p.seq, p.a.bytes, p.b.bytes);
  }

  private hashOf(e: Entry, bytes: Uint8Array): Uint8Array {
    const head = this.heads.get(toHex(e.author));
    return head && head.seq === e.seq ? head.hash : entryHash(bytes);
  }

  // ---- Replica ----

  vector(): VersionVector { return this.heads; }

  readAfter(author: Uint8Array, afterSeq: number, limit: number) {
    return this.store.readAfter(this.id, author, afterSeq, limit);
  }

  subscribe(onChange: () => void): () => void {
    this.changeListeners.add(onChange);
    return () => { this.changeListeners.delete(onChange); };
  }

  ingest(batch: Uint8Array[], fromKey: Uint8Array): IngestReport {
    const auth = authenticateBatch(batch, this.id, this.heads, entryCrypto, (author, seq) => this.store.hashAt(this.id, author, seq));
    const report: IngestReport = { accepted: 0, duplicates: auth.duplicates, rejected: [], seen: auth.seen };
    const blocked = new Set<string>();
    const rows: EntryRow[] = [];
    let controls = 0;
    let overQuota: string | undefined;
    const refuse = (r: ArrivalRefusal) => { report.rejected.push(r); };
    // Runs of entries share an author: convert its key to hex once per run.
    let lastKey: Uint8Array | undefined;
    let hex = '';
    // Taken back if the store refuses the rows (a full disk): the indexes must not claim entries
    // the store does not hold, or members would never send them again.
    const undo: (() => void)[] = [];
    const before = { held: this.held, count: this.count, indexed: this.indexed, dropped: this.dropped };
    for (const { e, hash } of auth.ordered) {
      if (lastKey === undefined || !equalBytes(lastKey, e.author)) { lastKey = e.author; hex = toHex(e.author); }
      if (blocked.has(hex)) { refuse({ author: hex, seq: e.seq, reason: 'follows a refused entry' }); continue; }
      const control = e.kind === EntryKind.control ? controlOf(e) : undefined;
      const reason = this.refuseHere(e, hex, control);
      const verifyOnly = reason?.startsWith('over quota') === true && this.verifyBeyond !== undefined && this.indexed < this.verifyBeyond.maxEntries;
      if (reason && !verifyOnly) {
        blocked.add(hex);
        refuse({ author: hex, seq: e.seq, reason });
        if (reason.startsWith('over quota') && overQuota === undefined) overQuota = reason;
        continue;
      }
      this.index(e, hash, !verifyOnly, control, hex, undo);
      if (verifyOnly) this.dropped = true;
      else rows.push({ author: e.author, seq: e.seq, hash, bytes: e.bytes });
      if (control !== undefined) controls++;
    }
    for (const r of auth.refused) refuse(r);
    if (rows.length > 0) {
      try {
        this.store.appendEntries(this.id, rows);
      } catch (err) {
        for (const u of undo.reverse()) u();
        ({ held: this.held, count: this.count, indexed: this.indexed, dropped: this.dropped } = before);
        this.log(`relay: workspace ${this.idHex.slice(0, 8)}: storing ${rows.length} entries failed: ${(err as Error).message}`);
        throw err;
      }
      report.accepted = rows.length;
    }
    // After storing: the entry a conflicting one contradicts may have come earlier in this batch.
    for (const theirs of auth.conflicts) this.evidence(theirs);
    if (controls > 0) this.emit({ type: 'control' });
    if (rows.length > 0 || this.dropped) {
      this.emit({ type: 'entries', count: rows.length });
      for (const l of this.changeListeners) l();
    }
    if (overQuota !== undefined) this.emit({ type: 'quota', from: toHex(fromKey), message: overQuota });
    return report;
  }

  /** Why this relay does not store an authenticated entry, or undefined. */
  private refuseHere(e: Entry, hex: string, control: ControlPayload | string | undefined): string | undefined {
    const forked = this.forkProofs.get(hex)?.seq;
    if (forked !== undefined && e.seq >= forked) return `its author forked its log at seq ${forked}`;
    const arrival = refuseOnArrival(e, hex, { workspaceHex: this.idHex, heads: this.heads, causal: this.causal, introductions: this.introductions, idFor: workspaceIdFor });
    if (arrival) return arrival;
    if (!(typeof control === 'object' && control.type === 'create')) {
      const vv = this.causal.compute(hex, e.seq, depsOf(e));
      const state = this.resolver.contentState(hex, e.seq, vv);
      if (roleOf(state, hex) === undefined) return state.removed.has(hex) ? 'author was removed' : 'author is not a member';
    }
    const limit = this.quota + (control !== undefined ? CONTROL_GRACE_BYTES : 0);
    // `held` already counts the entries accepted earlier in this batch (index() runs as we go).
    // Once a provisional replica drops bytes it must drop all later ones: what it holds stays a causal prefix.
    const held = this.held + this.otherBytes();
    if (this.dropped || held + e.bytes.byteLength > limit) {
      return `over quota: this relay holds ${held} bytes for workspace ${this.idHex.slice(0, 8)} and its quota is ${this.quota} bytes`;
    }
    return undefined;
  }

  /**
   * Records an entry in the indexes (heads, causal positions, introductions, membership). `undo`,
   * when given, gets what takes this back (but the counters: the caller keeps those).
   */
  private index(e: Entry, hash: Uint8Array, held: boolean, control?: ControlPayload | string, hex = toHex(e.author), undo?: (() => void)[]): void {
    const causalBefore = this.causal.head(hex);
    const headBefore = this.heads.get(hex);
    const vv = this.causal.add(hex, e.seq, depsOf(e));
    this.heads.set(hex, { author: e.author, seq: e.seq, hash });
    undo?.push(() => {
      this.causal.truncate(hex, causalBefore);
      if (headBefore) this.heads.set(hex, headBefore); else this.heads.delete(hex);
    });
    this.indexed++;
    if (held) {
      this.held += e.bytes.byteLength;
      this.count++;
    }
    if (e.kind !== EntryKind.control) return;
    const c = control ?? controlOf(e);
    // Stored control entries always parse: the arrival check refused the rest.
    if (typeof c === 'string') return;
    this.introductions.record(c, hex, e.seq);
    undo?.push(() => this.introductions.forget(c, hex, e.seq));
    if ((c.type === 'relay' || c.type === 'unrelay') && !this.relayKeysNamed.has(c.key)) {
      this.relayKeysNamed.add(c.key);
      undo?.push(() => this.relayKeysNamed.delete(c.key));
    }
    const id = `${hex}:${e.seq}`;
    this.resolver.add({ id, author: hex, seq: e.seq, clock: e.clock, payload: c, vv });
    undo?.push(() => this.resolver.remove(id));
  }

  // ---- forks ----

  /** Our stored entry of `author` at `seq`. */
  private storedEntry(author: Uint8Array, seq: number): Uint8Array | undefined {
    return storedEntryAt(this.store, this.id, author, seq);
  }

  /** An authenticated entry that contradicts what we hold of its author: a proof, if it makes one. */
  private evidence(theirs: Entry): boolean {
    const p = findForkProof(theirs, (author, seq) => this.storedEntry(author, seq), entryCrypto);
    return p ? this.recordFork(p) : false;
  }

  /**
   * Keeps a proof (durably) and voids the author's log from its fork point. Proofs are kept only
   * for authors whose entries we hold: anyone can sign two entries with a fresh key, and a proof
   * about an author nobody here stored protects nobody.
   */
  private recordFork(p: ForkProof): boolean {
    const hex = toHex(p.a.author);
    if (!this.heads.has(hex)) return false;
    const old = this.forkProofs.get(hex);
    if (old && old.seq <= p.seq) return false;
    this.forkProofs.set(hex, p);
    this.store.putFork(this.id, p.a.author, p.seq, p.a.bytes, p.b.bytes);
    this.log(`relay: workspace ${this.idHex.slice(0, 8)}: author ${hex.slice(0, 8)} forked its log at seq ${p.seq}; its entries from there on are void`);
    this.resolver.voidFrom(hex, p.seq);
    this.emit({ type: 'control' });
    this.emit({ type: 'fork', proof: [p.a.bytes, p.b.bytes] });
    return true;
  }

  readonly forks: ForkTracking = {
    forkedAt: (hex: string): number | undefined => this.forkProofs.get(hex)?.seq,
    proofs: (): Uint8Array[][] => [...this.forkProofs.values()].map((p) => [p.a.bytes, p.b.bytes]),
    entryAt: (author: Uint8Array, seq: number) => this.storedEntry(author, seq),
    hashAt: (author: Uint8Array, seq: number) => this.store.hashAt(this.id, author, seq),
    report: (entries: Uint8Array[]): boolean => {
      const { proof, hint } = readForkEvidence(entries, this.id, entryCrypto);
      if (hint) return this.evidence(hint);
      return proof ? this.recordFork(proof) : false;
    },
  };
}
