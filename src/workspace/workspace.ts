// Workspace: one replica of a workspace. Holds its heads, causal index, membership resolver and
// key epochs; writes our entries; validates, stores and applies entries from others (the sync
// layer's Replica). Membership verdicts can change when a concurrent control entry arrives late;
// then the tools' state is rebuilt from the stored entries, so every replica ends the same.
import { equalBytes, toHex, utf8 } from '../core/bytes.ts';
import { CausalIndex, type Vector } from '../core/causal.ts';
// Arrival checks are shared with relays' keyless replicas (src/relay/blind-replica.ts).
import { type ArrivalView, authenticateBatch, depsOf, Introductions, refuseOnArrival } from '../core/arrival.ts';
import { decodeEntry, type Dep, type Entry, EntryKind, ZERO_HASH } from '../core/entry.ts';
import { MembershipResolver, parseControl, roleOf, type ControlPayload, type MembershipState, type Role } from '../core/membership.ts';
import type { VersionVector } from '../core/version-vector.ts';
import { entryCrypto, entryHash, openEntry, sealEntry } from '../crypto/entry-seal.ts';
import type { PreparedBatch, ReadyBatch, ReceivedBatch } from '../core/entry-crypto.ts';
import { type EntryPreparer, unpackInline } from '../crypto/entry-preparer.ts';
import { openLocal } from '../crypto/local-seal.ts';
import { fromHex } from '../core/bytes.ts';
import { openSealed, type KeyPair } from '../crypto/sodium.ts';
import { type EntryRow, type Store, storedEntryAt } from '../store/store.ts';
import type { IngestReport, Rejection, Replica } from '../sync/replica.ts';
import type { AuthorInfo, ContentHandler } from './content-handler.ts';
import { workspaceIdFor } from './workspace-id.ts';
import { checkForkProof, findForkProof, type ForkProof, readForkEvidence } from '../core/fork-proof.ts';

export interface WorkspaceContext {
  store: Store;
  signing: KeyPair;
  agreement: KeyPair;
  handlers: ReadonlyMap<number, ContentHandler>;
  log: (line: string) => void;
  /** Persists an epoch key learned from a control entry (sealed at rest by the caller). */
  saveKey: (workspace: Uint8Array, epoch: number, key: Uint8Array) => void;
  /** Hashes and opens received batches on a worker thread (optional: without it, all inline). */
  preparer?: EntryPreparer;
}

export type WorkspaceEvent =
  | { type: 'entries'; count: number }
  | { type: 'members' }
  | { type: 'removed' }
  | { type: 'rejected'; rejection: Rejection }
  /** A new fork proof: pass it on to every session. */
  | { type: 'fork'; proof: Uint8Array[] };

export interface MemberView {
  keyHex: string;
  name: string;
  role: Role;
  agreementKey: string;
  owner?: string;
}

/** Entries applied together when a workspace is opened: bounds memory, keeps Yjs batching. */
const LOAD_BATCH = 5000;

/** Ingest-time rejections kept in memory (verdict rejections are recomputed, see audit()). */
const KEPT_REJECTIONS = 1000;

export class Workspace implements Replica {
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly resolver: MembershipResolver;
  private readonly ctx: WorkspaceContext;
  private readonly causal = new CausalIndex();
  private readonly heads: VersionVector = new Map();
  private readonly keys = new Map<number, Uint8Array>();
  /** Subject key → the add/create/device entries that name it (whatever their verdict). */
  private readonly introductions = new Introductions();
  /** Who was sent each epoch's key, by any stored control entry (valid or not): key care uses it. */
  readonly epochRecipients = new Map<number, Set<string>>();
  private maxClock = 0;
  private readonly depsNamed = new Map<string, number>();
  private readonly ingestRejections: Rejection[] = [];
  /** Stored entries that are not applied: membership verdict or payload check, by id. */
  private readonly invalid = new Map<string, Rejection>();
  /** Stored content entries no key of ours opens yet. */
  private undecrypted = 0;
  private readonly names = new Map<string, string>();
  private readonly listeners = new Set<(e: WorkspaceEvent) => void>();
  private readonly changeListeners = new Set<() => void>();
  private wasMember = false;

  constructor(ctx: WorkspaceContext, id: Uint8Array, keys: Map<number, Uint8Array>) {
    this.ctx = ctx;
    this.id = id;
    this.idHex = toHex(id);
    this.resolver = new MembershipResolver(this.idHex, workspaceIdFor);
    for (const [epoch, key] of keys) this.keys.set(epoch, key);
  }

  get selfHex(): string { return toHex(this.ctx.signing.publicKey); }
  get state(): MembershipState { return this.resolver.state; }
  get name(): string { return this.openName(this.state.workspaceNameBox) ?? '(name not readable yet)'; }
  get currentEpoch(): number { return this.state.currentEpoch; }
  keyFor(epoch: number): Uint8Array | undefined { return this.keys.get(epoch); }
  heldEpochs(): number[] { return [...this.keys.keys()]; }
  get removedSelf(): boolean { return this.state.removed.has(this.selfHex) && !this.state.members.has(this.selfHex); }

  private openName(box: string | undefined): string | undefined {
    if (!box) return undefined;
    const cached = this.names.get(box);
    if (cached !== undefined) return cached;
    const key0 = this.keys.get(0);
    const plain = key0 && openLocal(fromHex(box), key0, this.id);
    if (!plain) return undefined;
    const name = utf8.decode(plain);
    this.names.set(box, name);
    return name;
  }

  member(keyHex: string): MemberView | undefined {
    const s = this.state;
    const m = s.members.get(keyHex);
    const role = roleOf(s, keyHex);
    if (!m || !role) return undefined;
    const ownerName = m.owner ? this.openName(s.members.get(m.owner)?.nameBox) : undefined;
    // A device speaks as its owner.
    const name = (m.owner ? ownerName : undefined) ?? this.openName(m.nameBox) ?? keyHex.slice(0, 8);
    return { keyHex, name, role, agreementKey: m.agreementKey, ...(m.owner ? { owner: m.owner } : {}) };
  }

  members(): MemberView[] {
    return [...this.state.members.keys()].map((k) => this.member(k)!).filter(Boolean);
  }

  isMember(keyHex: string): boolean { return roleOf(this.state, keyHex) !== undefined; }

  /** Entries stored but not applied, and entries refused on arrival. */
  audit(): Rejection[] {
    return [...this.ingestRejections, ...this.invalid.values()];
  }

  /** Every stored entry with its plaintext (null if no key opens it), in storage (causal) order. */
  *entries(): Generator<{ entry: Entry; plain: Uint8Array | null }> {
    for (const bytes of this.ctx.store.allEntries(this.id)) {
      const entry = decodeEntry(bytes);
      yield { entry, plain: openEntry(entry, this.keys.get(entry.epoch)) };
    }
  }

  /** Rebuilds state from the store (entries were authenticated when they were stored). */
  load(): void {
    for (const f of this.ctx.store.forks(this.id)) {
      const p = checkForkProof(decodeEntry(f.a), decodeEntry(f.b), entryCrypto);
      if (typeof p !== 'string') this.forkProofs.set(hexOf(p.a.author), p);
    }
    // Two passes over the stored entries, so memory stays bounded whatever the history's length:
    // first the causal index and the control entries, then application in batches.
    const controls: Entry[] = [];
    for (const bytes of this.ctx.store.allEntries(this.id)) {
      const e = decodeEntry(bytes);
      const hex = hexOf(e.author);
      const vv = this.causal.add(hex, e.seq, depsOf(e));
      if (e.clock > this.maxClock) this.maxClock = e.clock;
      if (e.kind === EntryKind.control) { this.recordControl(e, vv); controls.push(e); }
    }
    // The store knows each author's head hash: no need to hash the whole history again.
    for (const h of this.ctx.store.heads(this.id)) this.heads.set(toHex(h.author), h);
    for (const e of controls) this.learnKeys(e);
    let batch: Entry[] = [];
    const flush = () => {
      const b = batch;
      batch = [];
      this.inBatch(() => { for (const e of b) this.applyStored(e, this.causal.vectorOf(hexOf(e.author), e.seq)); });
    };
    for (const bytes of this.ctx.store.allEntries(this.id)) {
      batch.push(decodeEntry(bytes));
      if (batch.length >= LOAD_BATCH) flush();
    }
    flush();
    this.wasMember = this.isMember(this.selfHex);
  }

  // ---- Replica ----

  vector(): VersionVector { return this.heads; }

  readAfter(author: Uint8Array, afterSeq: number, limit: number) {
    return this.ctx.store.readAfter(this.id, author, afterSeq, limit);
  }

  subscribe(onChange: () => void): () => void {
    this.changeListeners.add(onChange);
    return () => this.changeListeners.delete(onChange);
  }

  on(listener: (e: WorkspaceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: WorkspaceEvent): void {
    for (const l of this.listeners) l(e);
  }

  // ---- writing ----

  /** Why we may not write an entry of `kind` now, or undefined. */
  refuseOwnWrite(kind: EntryKind): string | undefined {
    const self = this.selfHex;
    const seq = (this.heads.get(self)?.seq ?? 0) + 1;
    return this.resolver.refuseContent(self, seq, this.nextVector(), kind);
  }

  private nextVector(): Vector {
    const self = this.selfHex;
    const seq = (this.heads.get(self)?.seq ?? 0) + 1;
    const deps = [...this.heads].filter(([hex]) => hex !== self).map(([hex, h]) => ({ author: hex, seq: h.seq }));
    return this.causal.compute(self, seq, deps);
  }

  /** Creates, stores and applies one entry of ours. */
  append(kind: EntryKind, plaintext: Uint8Array): Entry {
    return this.appendMany(kind, [plaintext])[0];
  }

  /** Creates, stores (one transaction) and applies several entries of ours, in order. */
  appendMany(kind: EntryKind, plaintexts: Uint8Array[]): Entry[] {
    if (plaintexts.length === 0) return [];
    if (kind !== EntryKind.control) {
      const refused = this.refuseOwnWrite(kind);
      if (refused) throw new Error(refused);
      const handler = this.ctx.handlers.get(kind);
      const me = this.authorInfo(this.selfHex);
      for (const p of plaintexts) {
        const why = handler ? handler.check(p, me) : `no handler for entry kind ${kind}`;
        if (why) throw new Error(why);
      }
    }
    const epoch = this.writeEpoch();
    const key = this.keys.get(epoch);
    if (kind !== EntryKind.control && !key) throw new Error('no key for the current epoch yet');
    const self = this.ctx.signing.publicKey;
    const selfHex = this.selfHex;
    const head = this.heads.get(selfHex);
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? ZERO_HASH;
    let clock = this.maxClock;
    const deps: Dep[] = [];
    for (const [hex, h] of this.heads) {
      if (hex === selfHex || this.depsNamed.get(hex) === h.seq) continue;
      deps.push({ author: h.author, seq: h.seq, hash: h.hash });
    }
    const entries: Entry[] = [];
    for (const p of plaintexts) {
      seq++;
      clock++;
      const bytes = sealEntry({
        kind, workspace: this.id, author: self, epoch, seq, clock, time: Date.now(), prevHash,
        // Only the first entry of the run names the other authors' heads; the rest follow by chain.
        deps: entries.length === 0 ? deps : [],
      }, p, key ?? null, this.ctx.signing.secretKey);
      prevHash = entryHash(bytes);
      entries.push(decodeEntry(bytes));
    }
    if (kind === EntryKind.control) {
      // See each control entry's verdict before anything is stored: refused actions leave no trace.
      for (const e of entries) {
        const c = parseControl(JSON.parse(utf8.decode(e.ciphertext)));
        if (typeof c === 'string') throw new Error(c);
        const id = `${selfHex}:${e.seq}`;
        this.resolver.add({ id, author: selfHex, seq: e.seq, clock: e.clock, payload: c, vv: this.causal.compute(selfHex, e.seq, depsOf(e)) });
        const why = this.resolver.verdict(id);
        this.resolver.remove(id);
        if (why) throw new Error(why);
      }
    }
    const report = this.accept(entries.map((e) => ({ e, hash: entryHash(e.bytes) })), true);
    if (report.rejected.length > 0) throw new Error(report.rejected[0].reason);
    for (const d of deps) this.depsNamed.set(toHex(d.author), d.seq);
    return entries;
  }

  appendControl(c: ControlPayload): Entry {
    return this.append(EntryKind.control, utf8.encode(JSON.stringify(c)));
  }

  /** The epoch we write with: the current one if we hold its key, else the newest we hold. */
  private writeEpoch(): number {
    const current = this.state.currentEpoch;
    if (this.keys.has(current)) return current;
    return this.keys.has(0) ? 0 : [...this.keys.keys()][0] ?? 0;
  }

  // ---- receiving ----

  /** Starts a received batch's per-entry work on the worker thread; pass the result to `ingest`. */
  prepare(batch: ReceivedBatch): Promise<ReadyBatch> {
    if (this.ctx.preparer) return this.ctx.preparer.prepare(batch, this.keys);
    try {
      return Promise.resolve('entries' in batch ? { entries: batch.entries } : unpackInline(batch.packed));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  ingest(batch: Uint8Array[], _fromKey: Uint8Array, prepared?: PreparedBatch): IngestReport {
    // 1. Authenticate per author: hash chain, one signature per run (core/arrival.ts).
    const crypto = prepared ? { hash: (b: Uint8Array) => prepared.hash(b) ?? entryCrypto.hash(b), verify: entryCrypto.verify } : entryCrypto;
    const auth = authenticateBatch(batch, this.id, this.heads, crypto, (author, seq) => this.ctx.store.hashAt(this.id, author, seq));
    this.prepared = prepared;
    let report: IngestReport;
    try {
      report = this.accept(auth.ordered, false);
    } finally {
      this.prepared = undefined;
    }
    for (const r of auth.refused) this.rejectOnArrival(report, r);
    for (const theirs of auth.conflicts) this.evidence(theirs);
    report.duplicates += auth.duplicates;
    report.seen = auth.seen;
    return report;
  }

  /**
   * Stores and applies authenticated entries, in order. Refuses (without storing) entries whose
   * deps we lack, whose author was never introduced in their causal past, or whose control payload
   * is malformed: none of that can change later. Everything else is stored; whether it takes effect
   * is the membership verdict, which may change as concurrent control entries arrive.
   */
  private accept(list: { e: Entry; hash: Uint8Array }[], local: boolean): IngestReport {
    const report: IngestReport = { accepted: 0, duplicates: 0, rejected: [], seen: new Map() };
    const blocked = new Set<string>();
    const rows: EntryRow[] = [];
    const stored: { e: Entry; vv: Vector }[] = [];
    let rebuild = false;
    let controls = 0;
    // Taken back if the store refuses the rows (a full disk): memory must not run ahead of the
    // store, or our next entry would not extend our stored log, and entries received now would
    // count as held and never be asked for again.
    const undo: (() => void)[] = [];
    const clockBefore = this.maxClock;
    for (const { e, hash } of list) {
      const hex = hexOf(e.author);
      if (blocked.has(hex)) { this.rejectOnArrival(report, { author: hex, seq: e.seq, reason: 'follows a rejected entry' }); continue; }
      const reason = this.refuseOnArrival(e, hex);
      if (reason) { blocked.add(hex); this.rejectOnArrival(report, { author: hex, seq: e.seq, reason }); continue; }
      const causalBefore = this.causal.head(hex);
      const headBefore = this.heads.get(hex);
      const vv = this.causal.add(hex, e.seq, depsOf(e));
      this.heads.set(hex, { author: e.author, seq: e.seq, hash });
      undo.push(() => {
        this.causal.truncate(hex, causalBefore);
        if (headBefore) this.heads.set(hex, headBefore); else this.heads.delete(hex);
      });
      if (e.clock > this.maxClock) this.maxClock = e.clock;
      if (e.kind === EntryKind.control) {
        controls++;
        const last = this.recordControl(e, vv, undo);
        // Cheap case: last in T and every entry we hold is in its past, so no verdict can change.
        if (!last || !this.covers(hex, e.seq, vv)) rebuild = true;
      }
      rows.push({ author: e.author, seq: e.seq, hash, bytes: e.bytes });
      stored.push({ e, vv });
    }
    if (rows.length === 0) return report;
    try {
      this.ctx.store.appendEntries(this.id, rows, local);
    } catch (err) {
      for (const u of undo.reverse()) u();
      this.maxClock = clockBefore;
      this.ctx.log(`workspace ${this.idHex.slice(0, 8)}: storing ${rows.length} entries failed: ${(err as Error).message}`);
      throw err;
    }
    report.accepted = rows.length;
    let learned = false;
    for (const { e } of stored) if (e.kind === EntryKind.control && this.learnKeys(e)) learned = true;
    if (learned && this.undecrypted > 0) rebuild = true;
    if (rebuild) this.rebuild();
    else this.inBatch(() => { for (const { e, vv } of stored) this.applyStored(e, vv); });
    if (controls > 0) {
      this.emit({ type: 'members' });
      const member = this.isMember(this.selfHex);
      if (this.wasMember && !member && this.state.removed.has(this.selfHex)) this.emit({ type: 'removed' });
      this.wasMember = member;
    }
    this.changed(rows.length);
    return report;
  }

  /** True when (author, seq, vv) has every entry we hold in its causal past. */
  private covers(author: string, seq: number, vv: Vector): boolean {
    for (const [hex, h] of this.heads) {
      if (hex === author ? h.seq > seq : (vv.get(hex) ?? 0) < h.seq) return false;
    }
    return true;
  }

  /** What the arrival rule reads of us (built once: it is consulted for every received entry). */
  private arrivalView: ArrivalView | undefined;

  private refuseOnArrival(e: Entry, hex: string): string | undefined {
    this.arrivalView ??= { workspaceHex: this.idHex, heads: this.heads, causal: this.causal, introductions: this.introductions, idFor: workspaceIdFor };
    return refuseOnArrival(e, hex, this.arrivalView);
  }

  /**
   * Feeds a stored control entry to the resolver; true if it is last in T. `undo`, when given,
   * gets what takes this back (the entry was not stored after all).
   */
  private recordControl(e: Entry, vv: Vector, undo?: (() => void)[]): boolean {
    const hex = hexOf(e.author);
    const c = parseControl(JSON.parse(utf8.decode(e.ciphertext))) as ControlPayload;
    this.introductions.record(c, hex, e.seq);
    undo?.push(() => this.introductions.forget(c, hex, e.seq));
    const sent = (epoch: number, to: string) => {
      let set = this.epochRecipients.get(epoch);
      if (!set) { set = new Set(); this.epochRecipients.set(epoch, set); }
      if (set.has(to)) return;
      set.add(to);
      const s = set;
      undo?.push(() => s.delete(to));
    };
    if (c.type === 'create' || c.type === 'add' || c.type === 'device' || c.type === 'share') {
      for (const epoch of Object.keys(c.keys)) sent(Number(epoch), c.type === 'create' ? hex : c.key);
    } else if ((c.type === 'rotate' || c.type === 'remove') && c.epoch !== undefined && c.keys) {
      for (const to of Object.keys(c.keys)) sent(c.epoch, to);
    }
    // Past a proven fork the author's control entries count for nothing.
    const forked = this.forkProofs.get(hex)?.seq;
    if (forked !== undefined && e.seq >= forked) return false;
    const id = `${hex}:${e.seq}`;
    undo?.push(() => this.resolver.remove(id));
    return this.resolver.add({ id, author: hex, seq: e.seq, clock: e.clock, payload: c, vv });
  }

  /** Opens epoch keys sealed to us in a control entry; true if any was new. */
  private learnKeys(e: Entry): boolean {
    const c = parseControl(JSON.parse(utf8.decode(e.ciphertext))) as ControlPayload;
    const me = this.selfHex;
    const boxes: [number, string][] = [];
    if (c.type === 'create' && toHex(e.author) === me) boxes.push(...epochBoxes(c.keys));
    else if ((c.type === 'add' || c.type === 'device' || c.type === 'share') && c.key === me) boxes.push(...epochBoxes(c.keys));
    else if ((c.type === 'rotate' || c.type === 'remove') && c.epoch !== undefined && c.keys?.[me]) boxes.push([c.epoch, c.keys[me]]);
    let learned = false;
    for (const [epoch, box] of boxes) {
      if (this.keys.has(epoch)) continue;
      const key = openSealed(fromHex(box), this.ctx.agreement);
      if (!key || key.byteLength !== 32) { this.ctx.log(`workspace ${this.idHex.slice(0, 8)}: a key for epoch ${epoch} sealed to us does not open`); continue; }
      this.keys.set(epoch, key);
      // Its entry is stored already and load() opens the same box again at the next start, so a
      // key that cannot be saved now (a full disk) is not lost, and must not stop the entries that
      // carried it from being applied.
      try {
        this.ctx.saveKey(this.id, epoch, key);
      } catch (err) {
        this.ctx.log(`workspace ${this.idHex.slice(0, 8)}: saving the key of epoch ${epoch} failed (it is read from the entries again at the next start): ${(err as Error).message}`);
      }
      learned = true;
      this.authors = new Map(); // names may be readable now
    }
    return learned;
  }

  // ---- forks (core/fork-proof.ts) ----

  private readonly forkProofs = new Map<string, ForkProof>();

  /** Our stored entry of `author` at `seq`. */
  private storedEntry(author: Uint8Array, seq: number): Uint8Array | undefined {
    return storedEntryAt(this.ctx.store, this.id, author, seq);
  }

  /** An authenticated entry that contradicts our log of its author: make a proof if it is one. */
  private evidence(theirs: Entry): boolean {
    const p = findForkProof(theirs, (author, seq) => this.storedEntry(author, seq), entryCrypto);
    return p ? this.recordFork(p) : false;
  }

  /** Records a fork: the author's entries from the fork point on lose their effect everywhere. */
  private recordFork(p: ForkProof): boolean {
    const hex = hexOf(p.a.author);
    const old = this.forkProofs.get(hex);
    if (old && old.seq <= p.seq) return false;
    this.forkProofs.set(hex, p);
    this.ctx.store.putFork(this.id, p.a.author, p.seq, p.a.bytes, p.b.bytes);
    this.ctx.log(`workspace ${this.idHex.slice(0, 8)}: author ${hex.slice(0, 8)} forked its log at seq ${p.seq}; its entries from there on are void`);
    this.resolver.voidFrom(hex, p.seq);
    this.rebuild();
    this.emit({ type: 'members' });
    this.emit({ type: 'fork', proof: [p.a.bytes, p.b.bytes] });
    return true;
  }

  readonly forks = {
    forkedAt: (hex: string): number | undefined => this.forkProofs.get(hex)?.seq,
    proofs: (): Uint8Array[][] => [...this.forkProofs.values()].map((p) => [p.a.bytes, p.b.bytes]),
    entryAt: (author: Uint8Array, seq: number) => this.storedEntry(author, seq),
    hashAt: (author: Uint8Array, seq: number) => this.ctx.store.hashAt(this.id, author, seq),
    report: (entries: Uint8Array[]): boolean => {
      const { proof, hint } = readForkEvidence(entries, this.id, entryCrypto);
      if (hint) return this.evidence(hint);
      return proof ? this.recordFork(proof) : false;
    },
  };

  /** Re-applies every stored entry under the current verdicts (after a retroactive change). */
  private rebuild(): void {
    for (const h of this.ctx.handlers.values()) h.reset(this.idHex);
    this.invalid.clear();
    this.undecrypted = 0;
    this.inBatch(() => {
      for (const bytes of this.ctx.store.allEntries(this.id)) {
        const e = decodeEntry(bytes);
        this.applyStored(e, this.causal.vectorOf(hexOf(e.author), e.seq));
      }
    });
  }

  /** Runs `fn` inside every handler's batch, so each applies its entries together. */
  private inBatch(fn: () => void): void {
    let run = fn;
    for (const h of this.ctx.handlers.values()) {
      if (!h.batch) continue;
      const inner = run;
      run = () => h.batch!(inner);
    }
    run();
  }

  /** Author views, cached until membership changes: looked up for every applied entry. */
  private authors = new Map<string, AuthorInfo>();
  private authorsFor: MembershipState | undefined;

  private authorInfo(hex: string): AuthorInfo {
    const state = this.state;
    if (this.authorsFor !== state || this.authors.size > 10_000) { this.authors = new Map(); this.authorsFor = state; }
    let info = this.authors.get(hex);
    if (!info) {
      const m = this.member(hex);
      info = { keyHex: hex, name: m?.name ?? hex.slice(0, 8), role: m?.role ?? 'guest' };
      this.authors.set(hex, info);
    }
    return info;
  }

  private applyStored(e: Entry, vv: Vector): void {
    const hex = hexOf(e.author);
    const forked = this.forkProofs.size === 0 ? undefined : this.forkProofs.get(hex)?.seq;
    if (forked !== undefined && e.seq >= forked) { this.markInvalid({ author: hex, seq: e.seq, reason: `its author forked its log at seq ${forked}` }); return; }
    if (e.kind === EntryKind.control) {
      const why = this.resolver.verdict(`${hex}:${e.seq}`);
      if (why) this.markInvalid({ author: hex, seq: e.seq, reason: why });
      return;
    }
    const why = this.resolver.refuseContent(hex, e.seq, vv, e.kind);
    if (why) { this.markInvalid({ author: hex, seq: e.seq, reason: why }); return; }
    // A key never changes once learned, so the worker's answer (with the keys of that moment) holds.
    let plain = this.prepared?.plain(e.bytes);
    if (plain === undefined) plain = openEntry(e, this.keys.get(e.epoch));
    if (!plain) { this.undecrypted++; return; }
    const handler = this.ctx.handlers.get(e.kind);
    const author = this.authorInfo(hex);
    const bad = handler ? handler.check(plain, author) : `no handler for entry kind ${e.kind}`;
    if (bad) { this.markInvalid({ author: hex, seq: e.seq, reason: bad }); return; }
    handler!.apply({ workspaceHex: this.idHex, author, seq: e.seq, clock: e.clock, time: e.time }, plain);
  }

  /** Work prepared for the batch being ingested (see `prepare`). */
  private prepared: PreparedBatch | undefined;

  private markInvalid(r: Rejection): void {
    const id = `${r.author}:${r.seq}`;
    if (this.invalid.has(id)) return;
    this.invalid.set(id, r);
    this.emit({ type: 'rejected', rejection: r });
  }

  private rejectOnArrival(report: IngestReport, r: Rejection): void {
    report.rejected.push(r);
    if (this.ingestRejections.length >= KEPT_REJECTIONS) this.ingestRejections.shift();
    this.ingestRejections.push(r);
    this.emit({ type: 'rejected', rejection: r });
  }

  private changed(count: number): void {
    this.emit({ type: 'entries', count });
    for (const l of this.changeListeners) l();
  }
}

/**
 * Hex of an author key, remembering the last one: in a batch, runs of entries share an author,
 * and converting the same 32 bytes again for every entry was a visible share of catch-up time.
 */
let lastKey: Uint8Array | undefined;
let lastHex = '';
function hexOf(key: Uint8Array): string {
  if (lastKey !== undefined && equalBytes(lastKey, key)) return lastHex;
  lastKey = key;
  lastHex = toHex(key);
  return lastHex;
}

function epochBoxes(keys: Record<string, string>): [number, string][] {
  return Object.entries(keys).map(([k, v]) => [Number(k), v]);
}
