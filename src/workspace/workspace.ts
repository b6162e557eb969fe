// Workspace: one replica of a workspace. Holds its heads, key epochs and membership, writes our
// entries, and validates and applies entries received from others (the sync layer's Replica).
import { toHex, utf8, DecodeError, equalBytes } from '../core/bytes.ts';
import { checkChain } from '../core/chain.ts';
import { decodeEntry, type Dep, type Entry, EntryKind, ZERO_HASH } from '../core/entry.ts';
import { kindName, Membership, parseControl, type ControlPayload } from '../core/membership.ts';
import type { VersionVector } from '../core/version-vector.ts';
import { entryCrypto, entryHash, openEntry, sealEntry } from '../crypto/entry-seal.ts';
import type { EntryRow, Store } from '../store/store.ts';
import type { IngestReport, Rejection, Replica } from '../sync/replica.ts';
import type { ContentHandler } from './content-handler.ts';
import { workspaceIdFor } from './workspace-id.ts';

export interface WorkspaceContext {
  store: Store;
  /** This device's signing key pair. */
  signing: { publicKey: Uint8Array; secretKey: Uint8Array };
  handlers: ReadonlyMap<number, ContentHandler>;
  log: (line: string) => void;
}

export type WorkspaceEvent =
  | { type: 'entries'; count: number }
  | { type: 'members' }
  | { type: 'rejected'; rejection: Rejection };

/** Rejections kept in memory for inspection (audit comes with the roles issue). */
const KEPT_REJECTIONS = 1000;

export class Workspace implements Replica {
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly membership = new Membership();
  readonly rejections: Rejection[] = [];
  private readonly ctx: WorkspaceContext;
  private readonly heads: VersionVector = new Map();
  private readonly keys = new Map<number, Uint8Array>();
  private epoch = 0;
  private maxClock = 0;
  /** Seq of each other author's head as named in the deps of our last entry. */
  private readonly depsNamed = new Map<string, number>();
  private readonly listeners = new Set<(e: WorkspaceEvent) => void>();
  private readonly changeListeners = new Set<() => void>();

  constructor(ctx: WorkspaceContext, id: Uint8Array, keys: Map<number, Uint8Array>) {
    this.ctx = ctx;
    this.id = id;
    this.idHex = toHex(id);
    for (const [epoch, key] of keys) {
      this.keys.set(epoch, key);
      if (epoch > this.epoch) this.epoch = epoch;
    }
  }

  get name(): string { return this.membership.name; }
  get currentEpoch(): number { return this.epoch; }
  keyFor(epoch: number): Uint8Array | undefined { return this.keys.get(epoch); }
  get selfHex(): string { return toHex(this.ctx.signing.publicKey); }

  /** Every stored entry with its plaintext (null if no key opens it), in storage (causal) order. */
  *entries(): Generator<{ entry: Entry; plain: Uint8Array | null }> {
    for (const bytes of this.ctx.store.allEntries(this.id)) {
      const entry = decodeEntry(bytes);
      const key = this.keys.get(entry.epoch);
      yield { entry, plain: key ? openEntry(entry, key) : null };
    }
  }

  /** Rebuilds state from the store (entries were verified when they were stored). */
  load(): void {
    for (const { entry: e, plain } of this.entries()) {
      const hex = toHex(e.author);
      this.heads.set(hex, { author: e.author, seq: e.seq, hash: entryHash(e.bytes) });
      if (e.clock > this.maxClock) this.maxClock = e.clock;
      if (!plain) { this.ctx.log(`workspace ${this.idHex.slice(0, 8)}: stored entry ${hex.slice(0, 8)}:${e.seq} cannot be decrypted`); continue; }
      if (e.kind === EntryKind.control) {
        const c = parseControl(JSON.parse(utf8.decode(plain)));
        if (typeof c !== 'string') this.membership.apply(e.author, c);
      } else {
        this.applyContent(e, plain);
      }
    }
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

  /** Creates, stores and applies one entry of ours. */
  append(kind: EntryKind, plaintext: Uint8Array): Entry {
    return this.appendMany(kind, [plaintext])[0];
  }

  /** Creates, stores (one transaction) and applies several entries of ours, in order. */
  appendMany(kind: EntryKind, plaintexts: Uint8Array[]): Entry[] {
    const refused = this.membership.refuseWrite(this.selfHex, kind);
    // The very first entry (create) is written before we are a member.
    if (refused && !(kind === EntryKind.control && this.membership.creator === undefined)) throw new Error(refused);
    const key = this.keys.get(this.epoch);
    if (!key) throw new Error('no key for the current epoch');
    const handler = this.ctx.handlers.get(kind);
    const controls: ControlPayload[] = [];
    for (const p of plaintexts) {
      if (kind === EntryKind.control) {
        const c = parseControl(JSON.parse(utf8.decode(p)));
        if (typeof c === 'string') throw new Error(c);
        controls.push(c);
      } else {
        const why = handler ? handler.check(p, this.membership.get(this.selfHex)!) : `no handler for ${kindName(kind)}`;
        if (why) throw new Error(why);
      }
    }
    const self = this.ctx.signing.publicKey;
    const head = this.heads.get(this.selfHex);
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? ZERO_HASH;
    let clock = this.maxClock;
    const deps: Dep[] = [];
    for (const [hex, h] of this.heads) {
      if (hex === this.selfHex || this.depsNamed.get(hex) === h.seq) continue;
      deps.push({ author: h.author, seq: h.seq, hash: h.hash });
    }
    const entries: Entry[] = [];
    const rows: EntryRow[] = [];
    for (const p of plaintexts) {
      seq++;
      clock++;
      const bytes = sealEntry({
        kind, workspace: this.id, author: self, epoch: this.epoch, seq, clock, time: Date.now(), prevHash,
        // Only the first entry of the run names the other authors' heads; the rest follow by chain.
        deps: entries.length === 0 ? deps : [],
      }, p, key, this.ctx.signing.secretKey);
      const e = decodeEntry(bytes);
      prevHash = entryHash(bytes);
      entries.push(e);
      rows.push({ author: self, seq, hash: prevHash, bytes });
    }
    controls.forEach((c, i) => {
      const why = this.membership.refuseControl(self, entries[i].seq, c, workspaceIdFor, this.idHex);
      if (why) throw new Error(why);
    });
    this.ctx.store.appendEntries(this.id, rows);
    for (const d of deps) this.depsNamed.set(toHex(d.author), d.seq);
    entries.forEach((e, i) => {
      this.advance(e, rows[i].hash);
      if (kind === EntryKind.control) this.membership.apply(self, controls[i]);
      else this.applyContent(e, plaintexts[i]);
    });
    if (kind === EntryKind.control) this.emit({ type: 'members' });
    this.changed(entries.length);
    return entries;
  }

  appendControl(c: ControlPayload): Entry {
    return this.append(EntryKind.control, utf8.encode(JSON.stringify(c)));
  }

  private advance(e: Entry, hash: Uint8Array): void {
    this.heads.set(toHex(e.author), { author: e.author, seq: e.seq, hash });
    if (e.clock > this.maxClock) this.maxClock = e.clock;
  }

  private changed(count: number): void {
    this.emit({ type: 'entries', count });
    for (const l of this.changeListeners) l();
  }

  // ---- receiving ----

  ingest(batch: Uint8Array[], _fromKey: Uint8Array): IngestReport {
    const report: IngestReport = { accepted: 0, duplicates: 0, rejected: [], seen: new Map() };
    const entries = batch.map((bytes) => {
      const e = decodeEntry(bytes);
      if (!equalBytes(e.workspace, this.id)) throw new DecodeError('entry belongs to another workspace');
      return e;
    });
    // 1. Authenticate per author: hash chain, one signature per run.
    const byAuthor = new Map<string, Entry[]>();
    for (const e of entries) {
      const hex = toHex(e.author);
      let list = byAuthor.get(hex);
      if (!list) { list = []; byAuthor.set(hex, list); }
      list.push(e);
      if ((report.seen.get(hex) ?? 0) < e.seq) report.seen.set(hex, e.seq);
    }
    const authentic = new Map<Entry, Uint8Array>();
    for (const [hex, list] of byAuthor) {
      const head = this.heads.get(hex) ?? { seq: 0, hash: ZERO_HASH };
      const r = checkChain(list, head, entryCrypto, (seq) => this.ctx.store.hashAt(this.id, list[0].author, seq));
      report.duplicates += r.duplicates;
      r.accepted.forEach((e, i) => authentic.set(e, r.hashes[i]));
      if (r.problem) this.reject(report, hex, r.problem.seq, describe(r.problem.kind));
    }
    if (authentic.size === 0) return report;
    // 2. In batch order: causal deps, key, decryption, membership, payload. A rejected entry
    //    blocks the rest of its author's run, so logs never get gaps.
    const seqNow = (hex: string) => pendingSeq.get(hex) ?? this.heads.get(hex)?.seq ?? 0;
    const pendingSeq = new Map<string, number>();
    const blocked = new Set<string>();
    const rows: EntryRow[] = [];
    const toApply: { e: Entry; plain: Uint8Array; hash: Uint8Array }[] = [];
    let membershipChanged = false;
    for (const e of entries) {
      const hash = authentic.get(e);
      if (!hash) continue;
      const hex = toHex(e.author);
      if (blocked.has(hex)) { this.reject(report, hex, e.seq, 'follows a rejected entry'); continue; }
      const why = this.refuse(e, seqNow);
      let plain: Uint8Array | null = null;
      let control: ControlPayload | undefined;
      let reason = why;
      if (!reason) {
        plain = openEntry(e, this.keys.get(e.epoch)!);
        if (!plain) reason = 'cannot be decrypted with the epoch key';
      }
      if (!reason && plain) {
        if (e.kind === EntryKind.control) {
          let json: unknown;
          try { json = JSON.parse(utf8.decode(plain)); } catch { json = undefined; }
          const c = parseControl(json);
          if (typeof c === 'string') reason = c;
          else {
            reason = this.membership.refuseControl(e.author, e.seq, c, workspaceIdFor, this.idHex);
            control = c;
          }
        } else {
          reason = this.membership.refuseWrite(hex, e.kind);
          if (!reason) {
            const handler = this.ctx.handlers.get(e.kind);
            reason = handler ? handler.check(plain, this.membership.get(hex)!) : `no handler for ${kindName(e.kind)}`;
          }
        }
      }
      if (reason) { blocked.add(hex); this.reject(report, hex, e.seq, reason); continue; }
      // Membership changes take effect at once: later entries in the batch may depend on them.
      if (control) { this.membership.apply(e.author, control); membershipChanged = true; }
      rows.push({ author: e.author, seq: e.seq, hash, bytes: e.bytes });
      pendingSeq.set(hex, e.seq);
      toApply.push({ e, plain: plain!, hash });
    }
    if (rows.length === 0) return report;
    this.ctx.store.appendEntries(this.id, rows);
    for (const { e, plain, hash } of toApply) {
      this.advance(e, hash);
      if (e.kind !== EntryKind.control) this.applyContent(e, plain);
    }
    report.accepted = rows.length;
    if (membershipChanged) this.emit({ type: 'members' });
    this.changed(rows.length);
    return report;
  }

  /** Checks that need no decryption: deps present, key epoch known, plausible clock. */
  private refuse(e: Entry, seqNow: (hex: string) => number): string | undefined {
    for (const d of e.deps) if (seqNow(toHex(d.author)) < d.seq) return 'depends on entries we do not hold';
    if (!this.keys.has(e.epoch)) return `unknown key epoch ${e.epoch}`;
    return undefined;
  }

  private reject(report: IngestReport, authorHex: string, seq: number, reason: string): void {
    const r = { author: authorHex, seq, reason };
    report.rejected.push(r);
    if (this.rejections.length >= KEPT_REJECTIONS) this.rejections.shift();
    this.rejections.push(r);
    this.emit({ type: 'rejected', rejection: r });
  }

  private applyContent(e: Entry, plain: Uint8Array): void {
    const author = this.membership.get(toHex(e.author));
    const handler = this.ctx.handlers.get(e.kind);
    if (!author || !handler) return;
    handler.apply({ workspaceHex: this.idHex, author, seq: e.seq, clock: e.clock, time: e.time }, plain);
  }
}

function describe(kind: string): string {
  switch (kind) {
    case 'gap': return 'seq gap (missing or reordered entries)';
    case 'fork': return 'forked log: same seq, different content';
    case 'broken-chain': return 'prevHash does not match the previous entry';
    case 'bad-signature': return 'bad signature';
    default: return kind;
  }
}
