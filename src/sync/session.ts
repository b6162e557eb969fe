// A sync session: replicates one workspace with one remote over one stream.
//
// Both sides send their version vector; each then streams what the other lacks, in the order
// entries were stored (a causal order), in batches, and says SYNCED once it has sent everything
// the remote lacked at the time. Afterwards new entries are pushed live as they are stored.
// We track what the remote holds (its vector plus what we sent and received), so we never echo.
import { DecodeError, equalBytes, toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { packEntries } from '../core/entry-pack.ts';
import { unpackInline } from '../crypto/entry-preparer.ts';
import { BATCH_BYTES, BATCH_ENTRIES, FrameType, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, SIGNAL_VERSION, type Frame, type PeerAddrs } from './frames.ts';
import { FrameStream } from './frame-stream.ts';
import type { Replica } from './replica.ts';
import type { PreparedBatch } from '../core/entry-crypto.ts';

/** A session that sees this many rejected entries is closed: the remote is broken or hostile. */
const MAX_REJECTIONS = 1000;
/** Rejections logged one by one per session; the rest are counted. */
const LOGGED_REJECTIONS = 20;
/** ENTRIES frames read ahead while earlier ones are prepared or ingested (4 MiB each at most). */
const MAX_QUEUED_BATCHES = 3;

export interface SessionOptions {
  remoteKey: Uint8Array;
  log: (line: string) => void;
  /** Addresses of other members we are connected to, offered to the remote (peer exchange). */
  localPeers?: () => PeerAddrs[];
  onPeers?: (peers: PeerAddrs[]) => void;
  /** A presence blob from the remote (ephemeral channel); the caller verifies it. */
  onPresence?: (blob: Uint8Array, from: SyncSession) => void;
  /** A call signal blob from the remote (ephemeral channel, version 3); the caller verifies it. */
  onSignal?: (blob: Uint8Array, from: SyncSession) => void;
}

export type ReplicaLookup = (workspace: Uint8Array, remoteKey: Uint8Array) => Replica | { error: string; message: string };

export class SessionError extends Error {
  readonly code: string;
  constructor(code: string, message: string) { super(message); this.name = 'SessionError'; this.code = code; }
}

export class SyncSession {
  readonly frames: FrameStream;
  readonly remoteKey: Uint8Array;
  readonly remoteHex: string;
  replica: Replica | undefined;
  /** Resolves once the remote has sent us everything we lacked when the session began; rejects if the session ends first. */
  readonly remoteSynced: Promise<void>;
  /** Resolves when the session ends, with the reason if it failed. */
  readonly closed: Promise<Error | undefined>;
  rejected = 0;
  received = 0;
  /** Sync protocol version of this session: the lower of the two sides' (set by the handshake). */
  version = MIN_PROTOCOL_VERSION;

  private readonly opts: SessionOptions;
  private remoteHas: Map<string, number> | undefined;
  private pumping = false;
  private pumpAgain = false;
  private sentSynced = false;
  private ended = false;
  private sendChain: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private resolveSynced!: () => void;
  private rejectSynced!: (e: Error) => void;
  private synced = false;
  private resolveClosed!: (e: Error | undefined) => void;

  constructor(stream: ByteStream, opts: SessionOptions) {
    this.frames = new FrameStream(stream);
    this.opts = opts;
    this.remoteKey = opts.remoteKey;
    this.remoteHex = toHex(opts.remoteKey);
    this.remoteSynced = new Promise((resolve, reject) => { this.resolveSynced = resolve; this.rejectSynced = reject; });
    this.remoteSynced.catch(() => {}); // callers that never wait for it must not see an unhandled rejection
    this.closed = new Promise((r) => { this.resolveClosed = r; });
  }

  /** Initiator side: offer `replica`, then run until the stream ends. */
  async initiate(replica: Replica): Promise<void> {
    await this.run(async (frames) => {
      await this.send({ type: FrameType.hello, version: PROTOCOL_VERSION, workspace: replica.id });
      const first = await frames.next();
      if (first.done) throw new SessionError('closed', 'the remote closed the stream');
      const f = first.value;
      if (f.type === FrameType.error) throw new SessionError(f.code, `the remote refused: ${f.message}`);
      if (f.type !== FrameType.hello) throw new DecodeError('expected HELLO');
      if (f.version < MIN_PROTOCOL_VERSION) throw new SessionError('version', `remote speaks sync protocol version ${f.version}`);
      this.version = Math.min(f.version, PROTOCOL_VERSION);
      return replica;
    });
  }

  /** Responder side: read HELLO, look the workspace up (membership check), then run. */
  async accept(lookup: ReplicaLookup): Promise<void> {
    await this.run(async (frames) => {
      const first = await frames.next();
      if (first.done) throw new SessionError('closed', 'the remote closed the stream');
      const f = first.value;
      if (f.type !== FrameType.hello) throw new DecodeError('expected HELLO');
      if (f.version < MIN_PROTOCOL_VERSION) {
        await this.send({ type: FrameType.error, code: 'version', message: `unsupported protocol version ${f.version}` });
        throw new SessionError('version', `remote speaks sync protocol version ${f.version}`);
      }
      const found = lookup(f.workspace, this.remoteKey);
      if ('error' in found) {
        await this.send({ type: FrameType.error, code: found.error, message: found.message });
        throw new SessionError(found.error, found.message);
      }
      // We answer with the version the session runs at: the lower of the two.
      this.version = Math.min(f.version, PROTOCOL_VERSION);
      await this.send({ type: FrameType.hello, version: this.version, workspace: found.id });
      return found;
    });
  }

  private async run(handshake: (frames: AsyncGenerator<Frame>) => Promise<Replica>): Promise<void> {
    const frames = this.frames.frames();
    let failure: Error | undefined;
    try {
      const replica = await handshake(frames);
      this.replica = replica;
      this.unsubscribe = replica.subscribe(() => { void this.pump(); });
      await this.send({ type: FrameType.vector, heads: [...replica.vector().values()] });
      for (const proof of replica.forks?.proofs() ?? []) await this.send({ type: FrameType.fork, entries: proof });
      const peers = this.opts.localPeers?.() ?? [];
      if (peers.length > 0) await this.send({ type: FrameType.peers, peers });
      await this.receive(frames, replica);
    } catch (err) {
      // Once we closed the session ourselves, the reader ending in an error is expected.
      if (this.ended) return;
      failure = err as Error;
      if (err instanceof DecodeError) {
        this.opts.log(`sync: malformed frame from ${short(this.remoteHex)}: ${err.message}; closing`);
        await this.send({ type: FrameType.error, code: 'malformed', message: err.message }).catch(() => {});
      } else if (!(err instanceof SessionError)) {
        this.opts.log(`sync: session with ${short(this.remoteHex)} failed: ${(err as Error).message}`);
      }
    } finally {
      this.end(failure);
    }
    if (failure && !(failure instanceof SessionError && failure.code === 'closed')) throw failure;
  }

  /**
   * Reads frames and handles them in order. ENTRIES frames go through the replica's `prepare`
   * (per-entry crypto on a worker thread) when it has one: while batch N is prepared, batch N-1 is
   * ingested and batch N+1 read, so the main thread does not wait for the crypto. At most
   * MAX_QUEUED_BATCHES wait at a time (bounded memory, back-pressure on the stream); any other frame
   * waits until the entries before it are ingested.
   */
  private async receive(frames: AsyncGenerator<Frame>, replica: Replica): Promise<void> {
    try {
      await this.receiveInOrder(frames, replica);
    } finally {
      // What leaving a for-await loop would do: finish the frame reader, which releases the stream.
      frames.return(undefined).catch(() => {});
    }
  }

  private async receiveInOrder(frames: AsyncGenerator<Frame>, replica: Replica): Promise<void> {
    let queue: Promise<void> = Promise.resolve();
    const waiting: Promise<void>[] = []; // one per queued batch, settled once it is ingested
    let fail!: (err: unknown) => void;
    const failed = new Promise<never>((_, reject) => { fail = reject; });
    failed.catch(() => {});
    while (!this.ended) {
      const reading = frames.next();
      reading.catch(() => {}); // abandoned if a queued batch fails first (the session then ends)
      const next = await Promise.race([reading, failed]);
      if (next.done || this.ended) break;
      const f = next.value;
      if ((f.type === FrameType.entries || f.type === FrameType.entriesPacked) && replica.prepare) {
        const job = replica.prepare(f.type === FrameType.entries ? { entries: f.entries } : { packed: f.packed });
        job.catch(() => {}); // a malformed batch fails the session when its turn comes, not before
        queue = queue.then(async () => {
          const ready = await job;
          if (!this.ended) this.ingest(ready.entries, replica, ready.prepared);
        }).catch((err: unknown) => { fail(err); });
        waiting.push(queue);
        // Wait for the oldest only, so the next batches keep the worker busy meanwhile.
        if (waiting.length >= MAX_QUEUED_BATCHES) await Promise.race([waiting.shift()!, failed]);
        continue;
      }
      waiting.length = 0;
      await Promise.race([queue, failed]);
      this.handle(f, replica);
    }
    await Promise.race([queue, failed]);
  }

  private ingest(entries: Uint8Array[], replica: Replica, prepared?: PreparedBatch): void {
    this.received += entries.length;
    const report = replica.ingest(entries, this.remoteKey, prepared);
    // Whatever the remote sent, it holds: never send it back.
    if (this.remoteHas) {
      for (const [k, seq] of report.seen) if ((this.remoteHas.get(k) ?? 0) < seq) this.remoteHas.set(k, seq);
    }
    for (const r of report.rejected) {
      this.rejected++;
      if (this.rejected <= LOGGED_REJECTIONS) this.opts.log(`sync: rejected entry ${short(r.author)}:${r.seq} from ${short(this.remoteHex)}: ${r.reason}`);
    }
    if (this.rejected > MAX_REJECTIONS) throw new SessionError('too-many-rejections', `closing: ${this.rejected} entries rejected`);
  }

  private handle(f: Frame, replica: Replica): void {
    switch (f.type) {
      case FrameType.vector: {
        this.remoteHas = new Map();
        for (const h of f.heads) {
          this.remoteHas.set(toHex(h.author), h.seq);
          // Same seq, other hash: the author forked. Show the remote our version, so both hold a proof.
          const ours = replica.forks?.hashAt(h.author, h.seq);
          if (ours && !equalBytes(ours, h.hash)) {
            const entry = replica.forks!.entryAt(h.author, h.seq);
            if (entry) void this.send({ type: FrameType.fork, entries: [entry] }).catch(() => {});
          }
        }
        void this.pump();
        return;
      }
      case FrameType.fork: {
        replica.forks?.report(f.entries);
        return;
      }
      case FrameType.entries: this.ingest(f.entries, replica); return;
      case FrameType.entriesPacked: {
        const ready = unpackInline(f.packed);
        this.ingest(ready.entries, replica, ready.prepared);
        return;
      }
      case FrameType.synced: this.synced = true; this.resolveSynced(); return;
      case FrameType.peers: this.opts.onPeers?.(f.peers); return;
      case FrameType.presence: this.opts.onPresence?.(f.blob, this); return;
      case FrameType.signal: this.opts.onSignal?.(f.blob, this); return;
      case FrameType.error: throw new SessionError(f.code, `the remote reported: ${f.message}`);
      default: throw new DecodeError(`unexpected frame type ${f.type} in a sync session`);
    }
  }

  /** Sends whatever the remote lacks; coalesces triggers that arrive while a pump runs. */
  private async pump(): Promise<void> {
    if (!this.remoteHas || !this.replica || this.ended) return;
    if (this.pumping) { this.pumpAgain = true; return; }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.sendMissing(this.replica, this.remoteHas);
        if (this.pumpAgain || this.sentSynced || this.ended) continue;
        this.sentSynced = true;
        await this.send({ type: FrameType.synced });
        // Entries stored while SYNCED was being sent set pumpAgain too: they must not wait for the next change.
      } while (this.pumpAgain && !this.ended);
    } catch (err) {
      if (!this.ended) {
        this.opts.log(`sync: sending to ${short(this.remoteHex)} failed: ${(err as Error).message}`);
        this.frames.stream.abort(err as Error);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async sendMissing(replica: Replica, remoteHas: Map<string, number>): Promise<void> {
    // One cursor per author the remote lags on; merged by storage order so batches stay causal.
    const cursors: { author: Uint8Array; hex: string; after: number; to: number; page: { seq: number; order: number; bytes: Uint8Array }[]; i: number }[] = [];
    for (const [hex, head] of replica.vector()) {
      const after = remoteHas.get(hex) ?? 0;
      // A forked log is void from the fork on: never spread it further.
      const forked = replica.forks?.forkedAt(hex);
      const to = forked !== undefined ? Math.min(head.seq, forked - 1) : head.seq;
      if (to > after) cursors.push({ author: head.author, hex, after, to, page: [], i: 0 });
    }
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const entries = batch;
      batch = [];
      batchBytes = 0;
      // Packed from version 2 on (about 40% fewer bytes for runs of one author); a single entry gains nothing.
      if (this.version >= 2 && entries.length > 1) await this.send({ type: FrameType.entriesPacked, packed: packEntries(entries) });
      else await this.send({ type: FrameType.entries, entries });
    };
    while (!this.ended) {
      let best: (typeof cursors)[number] | undefined;
      for (const c of cursors) {
        if (c.i >= c.page.length) {
          if (c.after >= c.to) continue;
          c.page = replica.readAfter(c.author, c.after, BATCH_ENTRIES);
          c.i = 0;
          if (c.page.length === 0) { c.after = c.to; continue; }
        }
        if (!best || c.page[c.i].order < best.page[best.i].order) best = c;
      }
      if (!best) break;
      const row = best.page[best.i++];
      best.after = row.seq;
      if ((remoteHas.get(best.hex) ?? 0) >= row.seq) continue; // received from the remote meanwhile
      if (batchBytes + row.bytes.byteLength > BATCH_BYTES && batch.length > 0) await flush();
      batch.push(row.bytes);
      batchBytes += row.bytes.byteLength;
      remoteHas.set(best.hex, row.seq);
      if (batch.length >= BATCH_ENTRIES) await flush();
    }
    await flush();
  }

  /**
   * Entries the remote holds that we do not (from its VECTOR and what it sent since): what is
   * still to sync from it. Undefined until its VECTOR arrived.
   */
  pendingFromRemote(): number | undefined {
    if (!this.remoteHas || !this.replica) return undefined;
    const local = this.replica.vector();
    let n = 0;
    for (const [hex, seq] of this.remoteHas) {
      const forked = this.replica.forks?.forkedAt(hex);
      const upTo = forked !== undefined ? Math.min(seq, forked - 1) : seq;
      n += Math.max(0, upTo - (local.get(hex)?.seq ?? 0));
    }
    return n;
  }

  /** Passes a fork proof on (two entries). */
  sendFork(proof: Uint8Array[]): void {
    if (this.ended || !this.replica) return;
    this.send({ type: FrameType.fork, entries: proof }).catch(() => {});
  }

  /** Sends a presence blob once the session is up; dropped (not queued up) if it is not. */
  sendPresence(blob: Uint8Array): void {
    if (this.ended || !this.replica) return;
    this.send({ type: FrameType.presence, blob }).catch(() => {});
  }

  /** Sends a call signal blob if the session is up and speaks version 3; false if it cannot carry one. */
  sendSignal(blob: Uint8Array): boolean {
    if (this.ended || !this.replica || this.version < SIGNAL_VERSION) return false;
    this.send({ type: FrameType.signal, blob }).catch(() => {});
    return true;
  }

  send(f: Frame): Promise<void> {
    const p = this.sendChain.then(() => this.frames.send(f));
    this.sendChain = p.catch(() => {});
    return p;
  }

  /**
   * Sends what the remote still lacks, then closes: used when a member is removed, so the removal
   * itself reaches them (they are told) before we stop syncing.
   */
  drainAndClose(timeoutMs = 5000): void {
    if (this.ended) return;
    const timer = setTimeout(() => this.close(), timeoutMs);
    timer.unref?.();
    const finish = async () => {
      while (this.pumping && !this.ended) await new Promise((r) => setTimeout(r, 10));
      await this.pump();
      await this.sendChain;
      clearTimeout(timer);
      this.close();
    };
    void finish();
  }

  /** Closes the session and its stream. */
  close(): void {
    if (this.ended) return;
    this.end(undefined);
  }

  private end(reason: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe?.();
    if (!this.synced) this.rejectSynced(reason ?? new SessionError('closed', 'the session closed before it was synced'));
    if (reason) this.frames.stream.abort(reason);
    // Flush what is queued, close our side, then stop reading: the remote may never close its side.
    else this.sendChain.then(() => this.frames.stream.close()).catch(() => {}).finally(() => this.frames.stream.abort());
    this.resolveClosed(reason);
  }
}

function short(hex: string): string {
  return hex.slice(0, 8);
}
