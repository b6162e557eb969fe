// The relay's side of queued joins (queued-join.ts): it keeps a joiner's signed request for an
// attached workspace (relay.db), passes it on to the inviter when the inviter is connected, and
// tells the joiner where its request stands. A request is "accepted" once the joiner is a member
// in the relay's replica, i.e. once the inviter's `add` entry reached the relay: then the joiner
// can sync the workspace from here.
import { toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { TrellisError } from '../core/errors.ts';
import type { NetNode, NetPeerInfo } from '../net/libp2p-node.ts';
import { FrameStream } from '../sync/frame-stream.ts';
import { FrameType } from '../sync/frames.ts';
import type { RelayDb } from './relay-db.ts';
import type { RelayService } from './relay-service.ts';
import { MAX_DELIVERY, parseDeliveryResults, parseQueuedRequest, RELAY_JOIN_PROTOCOL, type QueueAnswer } from './queued-join.ts';

/** Requests a workspace may have queued at once (a pest cannot fill the relay). */
const MAX_QUEUED_PER_WORKSPACE = 100;
/** A request passed on is not passed on again before this (the `add` entry is on its way). */
const REDELIVER_MS = 30_000;
const TICK_MS = 5000;
const ANSWER_TIMEOUT_MS = 15_000;
/** Requests are kept at most this long, whatever their invitation says. */
const MAX_KEEP_MS = 30 * 24 * 3600_000;

export interface JoinQueueOptions {
  db: RelayDb;
  service: RelayService;
  net: Pick<NetNode, 'openStream' | 'connectedPeers'>;
  log: (line: string) => void;
}

export class JoinQueue {
  private readonly opts: JoinQueueOptions;
  /** `${ws}/${joiner}/${invite}` → when it was last passed on. */
  private readonly delivered = new Map<string, number>();
  private readonly delivering = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(opts: JoinQueueOptions) { this.opts = opts; }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.stopped) return;
    this.opts.db.expireJoins();
    for (const p of this.opts.net.connectedPeers()) void this.deliverTo(p);
  }

  /** A joiner asks: queue its request (or say where it stands). */
  handle(stream: ByteStream, remote: NetPeerInfo): void {
    const fs = new FrameStream(stream);
    void (async () => {
      const frames = fs.frames();
      try {
        const first = await frames.next();
        if (first.done) return;
        const f = first.value;
        const body = f.type === FrameType.joinRequest ? f.body as { op?: unknown; request?: unknown } : undefined;
        if (typeof body !== 'object' || body === null || body.op !== 'queue') throw new TrellisError('invalid', 'expected a queued join request');
        const answer = this.queue(body.request, toHex(remote.publicKey));
        await fs.send({ type: FrameType.joinAccept, body: answer });
      } catch (err) {
        const e = err instanceof TrellisError ? err : new TrellisError('invalid', 'malformed queued join request');
        await fs.send({ type: FrameType.error, code: e.code, message: e.message }).catch(() => {});
      } finally {
        void stream.close().catch(() => {});
      }
    })();
  }

  private queue(raw: unknown, remoteHex: string): QueueAnswer {
    const req = parseQueuedRequest(raw);
    if (req.joiner !== remoteHex) throw new TrellisError('forbidden', 'a join request must come from its joiner');
    const replica = this.opts.service.replica(req.workspace);
    if (!replica) throw new TrellisError('not-found', 'this relay does not serve that workspace');
    const { db } = this.opts;
    if (replica.isMember(req.joiner)) {
      db.deleteJoin(req.workspace, req.joiner, req.invite);
      return { state: 'accepted' };
    }
    const known = db.getJoin(req.workspace, req.joiner, req.invite);
    if (known?.state === 'refused') return { state: 'refused', reason: known.reason ?? 'refused by the inviter' };
    if (req.expires < Date.now()) throw new TrellisError('forbidden', `this invitation expired on ${new Date(req.expires).toISOString()}`);
    if (!replica.isMember(req.inviter)) throw new TrellisError('forbidden', 'the inviter is not a member of that workspace (any more)');
    if (!known && db.countJoins(req.workspace) >= MAX_QUEUED_PER_WORKSPACE) throw new TrellisError('unavailable', 'this relay holds too many join requests for that workspace; try again later');
    const now = Date.now();
    db.putJoin({ workspace: req.workspace, joiner: req.joiner, invite: req.invite, inviter: req.inviter, request: JSON.stringify(req), created: now, expires: Math.min(req.expires, now + MAX_KEEP_MS) });
    if (!known) this.opts.log(`relay: queued a join request of ${req.joiner.slice(0, 8)} to workspace ${req.workspace.slice(0, 8)} for inviter ${req.inviter.slice(0, 8)}`);
    const inviter = this.opts.net.connectedPeers().find((p) => toHex(p.publicKey) === req.inviter);
    if (inviter) void this.deliverTo(inviter);
    return { state: 'queued' };
  }

  /** Passes the requests queued for `peer` (as inviter) on to it, and records its answers. */
  async deliverTo(peer: NetPeerInfo): Promise<void> {
    const inviter = toHex(peer.publicKey);
    if (this.stopped || this.delivering.has(inviter)) return;
    this.delivering.add(inviter);
    try {
      const now = Date.now();
      for (const ws of this.opts.service.served()) {
        const due = this.opts.db.joinsFor(ws.id, inviter, MAX_DELIVERY * 4)
          .filter((j) => (this.delivered.get(`${j.workspace}/${j.joiner}/${j.invite}`) ?? 0) < now - REDELIVER_MS)
          .slice(0, MAX_DELIVERY);
        if (due.length === 0) continue;
        await this.deliver(peer, due.map((j) => JSON.parse(j.request) as unknown), ws.id);
        // Passed on: its `add` entry is on its way; not again for a while (a failed delivery is retried at the next tick).
        for (const j of due) this.delivered.set(`${j.workspace}/${j.joiner}/${j.invite}`, now);
      }
    } catch (err) {
      this.opts.log(`relay: passing join requests to ${inviter.slice(0, 8)} failed: ${(err as Error).message}`);
    } finally {
      this.delivering.delete(inviter);
    }
  }

  private async deliver(peer: NetPeerInfo, requests: unknown[], wsHex: string): Promise<void> {
    const { stream } = await this.opts.net.openStream(peer.peerId, RELAY_JOIN_PROTOCOL);
    const fs = new FrameStream(stream);
    const timer = setTimeout(() => stream.abort(new Error('no answer in time')), ANSWER_TIMEOUT_MS);
    try {
      await fs.send({ type: FrameType.joinRequest, body: { op: 'deliver', requests } });
      const first = await fs.frames().next();
      if (first.done) throw new Error('the inviter closed the stream without answering');
      const f = first.value;
      if (f.type === FrameType.error) throw new Error(`the inviter refused: ${f.message}`);
      if (f.type !== FrameType.joinAccept) throw new Error('unexpected answer');
      for (const r of parseDeliveryResults(f.body, requests.length)) {
        if (r.ok) continue; // accepted: its `add` entry comes through the sync session
        this.opts.db.refuseJoin(wsHex, r.joiner, r.invite, r.reason);
        this.opts.log(`relay: the inviter refused ${r.joiner.slice(0, 8)}'s join request: ${r.reason}`);
      }
    } finally {
      clearTimeout(timer);
      void stream.close().catch(() => {});
    }
  }
}
