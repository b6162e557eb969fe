// The relay's side of queued joins (queued-join.ts): it keeps a joiner's signed request for an
// attached workspace (relay.db), passes it on to a manager of the workspace when one is connected
// (the inviter, or any other: the ticket lets every manager check the invitation), and tells the
// joiner where its request stands. A request is "accepted" once the joiner is a member in the
// relay's replica, i.e. once a manager's `add` entry reached the relay: then the joiner can sync
// the workspace from here.
//
// Slots are not free for the taking: a request is kept only with a ticket its inviter signed, the
// joiner's proof that it holds that invitation's secret, an inviter who may invite (a manager in
// the relay's replica, per the public control entries), an unexpired and unused invitation; and
// within limits per workspace, per invitation, per joiner, and on how often a peer may ask.
import { fromHex, toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { TrellisError } from '../core/errors.ts';
import { roleOf } from '../core/membership.ts';
import type { NetNode, NetPeerInfo } from '../net/libp2p-node.ts';
import { FrameStream } from '../sync/frame-stream.ts';
import { FrameType } from '../sync/frames.ts';
import { parseTicket, type InviteGrant } from '../workspace/invite-code.ts';
import type { BlindReplica } from './blind-replica.ts';
import type { QueuedJoin, RelayDb } from './relay-db.ts';
import type { RelayService } from './relay-service.ts';
import { MAX_DELIVERY, parseDeliveryResults, parseQueuedRequest, RELAY_JOIN_PROTOCOL, type QueueAnswer, type QueuedJoinRequest } from './queued-join.ts';

export interface JoinLimits {
  /** Requests a workspace may have queued at once. */
  perWorkspace: number;
  /** Requests citing one invitation (it admits one member; a second joiner may hold a leaked copy). */
  perInvite: number;
  /** Requests one joiner key may have queued, over every workspace. */
  perJoiner: number;
  /** Queue requests one peer may send per minute (an honest joiner asks every 1–10 s). */
  asksPerMinute: number;
}

export const DEFAULT_JOIN_LIMITS: JoinLimits = { perWorkspace: 100, perInvite: 2, perJoiner: 8, asksPerMinute: 30 };
/** A request passed on is not passed on again before this (the `add` entry is on its way). */
const REDELIVER_MS = 30_000;
const TICK_MS = 5000;
const ANSWER_TIMEOUT_MS = 15_000;
/** Requests are kept at most this long, whatever their invitation says. */
const MAX_KEEP_MS = 30 * 24 * 3600_000;
/** Peers whose asks are counted at once (the counts are dropped beyond it). */
const MAX_COUNTED_PEERS = 10_000;
/** Refusal codes a manager gives for good; others (`unavailable`, `not-found`) leave the request for another manager or a later try. */
const FINAL_CODES = new Set(['forbidden', 'invalid']);

export interface JoinQueueOptions {
  db: RelayDb;
  service: RelayService;
  net: Pick<NetNode, 'openStream' | 'connectedPeers'>;
  log: (line: string) => void;
  limits?: Partial<JoinLimits>;
}

export class JoinQueue {
  private readonly opts: JoinQueueOptions;
  private readonly limits: JoinLimits;
  /** `${ws}/${joiner}/${invite}` → when it was last passed on. */
  private readonly delivered = new Map<string, number>();
  private readonly delivering = new Set<string>();
  /** Remote peer → its asks in the current minute. */
  private readonly asks = new Map<string, { since: number; n: number }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(opts: JoinQueueOptions) {
    this.opts = opts;
    this.limits = { ...DEFAULT_JOIN_LIMITS, ...opts.limits };
  }

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
    const remoteHex = toHex(remote.publicKey);
    void (async () => {
      const frames = fs.frames();
      try {
        const first = await frames.next();
        if (first.done) return;
        const f = first.value;
        const body = f.type === FrameType.joinRequest ? f.body as { op?: unknown; request?: unknown } : undefined;
        if (typeof body !== 'object' || body === null || body.op !== 'queue') throw new TrellisError('invalid', 'expected a queued join request');
        // Counted before any signature is checked: checking costs more than asking.
        if (!this.allowAsk(remoteHex)) throw new TrellisError('unavailable', `too many join requests from this peer: at most ${this.limits.asksPerMinute} a minute; try again later`);
        const answer = this.queue(body.request, remoteHex);
        await fs.send({ type: FrameType.joinAccept, body: answer });
      } catch (err) {
        const e = err instanceof TrellisError ? err : new TrellisError('invalid', 'malformed queued join request');
        await fs.send({ type: FrameType.error, code: e.code, message: e.message }).catch(() => {});
      } finally {
        void stream.close().catch(() => {});
      }
    })();
  }

  private allowAsk(remoteHex: string): boolean {
    const now = Date.now();
    let a = this.asks.get(remoteHex);
    if (!a || now - a.since >= 60_000) {
      if (!a && this.asks.size >= MAX_COUNTED_PEERS) this.asks.clear();
      a = { since: now, n: 0 };
      this.asks.set(remoteHex, a);
    }
    return ++a.n <= this.limits.asksPerMinute;
  }

  /**
   * Why a well-signed request cannot be completed in the relay's view of the workspace, or
   * undefined: its invitation expired, was used or revoked, or its inviter may not invite (any more).
   */
  private refusal(replica: BlindReplica, req: Pick<QueuedJoinRequest, 'inviter' | 'invite' | 'joiner'>, grant: InviteGrant): string | undefined {
    if (grant.expires < Date.now()) return `this invitation expired on ${new Date(grant.expires).toISOString()}`;
    const s = replica.state;
    // A device invitation is its owner's (a member, not a device) to complete; others need a manager.
    const inviter = s.members.get(req.inviter);
    const mayInvite = grant.role === 'device' ? inviter !== undefined && inviter.owner === undefined : roleOf(s, req.inviter) === 'manager';
    if (!mayInvite) return 'the inviter may not invite to that workspace (not a manager there, as far as this relay knows)';
    const usedBy = s.invites.get(req.invite);
    if (usedBy !== undefined && usedBy !== req.joiner) return 'this invitation has already been used';
    if (usedBy === undefined && s.revokedInvites.has(req.invite)) return 'this invitation was revoked by a manager of the workspace';
    return undefined;
  }

  private queue(raw: unknown, remoteHex: string): QueueAnswer {
    const { request: req, grant } = parseQueuedRequest(raw);
    if (req.joiner !== remoteHex) throw new TrellisError('forbidden', 'a join request must come from its joiner');
    const replica = this.opts.service.replica(req.workspace);
    if (!replica) throw new TrellisError('not-found', 'this relay does not serve that workspace');
    const { db } = this.opts;
    if (replica.isMember(req.joiner)) {
      db.deleteJoin(req.workspace, req.joiner, req.invite);
      return { state: 'accepted' };
    }
    const known = db.getJoin(req.workspace, req.joiner, req.invite);
    if (known?.state === 'refused') return { state: 'refused', reason: known.reason ?? 'refused by a manager' };
    const why = this.refusal(replica, req, grant);
    if (why) {
      if (known) db.refuseJoin(req.workspace, req.joiner, req.invite, why);
      throw new TrellisError('forbidden', why);
    }
    if (!known) {
      const l = this.limits;
      if (db.countJoins(req.workspace) >= l.perWorkspace) throw new TrellisError('unavailable', 'this relay holds too many join requests for that workspace; try again later');
      if (db.countInviteJoins(req.workspace, req.invite) >= l.perInvite) throw new TrellisError('unavailable', 'other join requests with this invitation are waiting at this relay; try again later');
      if (db.countJoinerJoins(req.joiner) >= l.perJoiner) throw new TrellisError('unavailable', `this relay holds ${l.perJoiner} join requests of yours already; try again once they are answered`);
    }
    const now = Date.now();
    db.putJoin({ workspace: req.workspace, joiner: req.joiner, invite: req.invite, inviter: req.inviter, request: JSON.stringify(req), created: now, expires: Math.min(req.expires, now + MAX_KEEP_MS) });
    if (!known) this.opts.log(`relay: queued a join request of ${req.joiner.slice(0, 8)} to workspace ${req.workspace.slice(0, 8)} (invited by ${req.inviter.slice(0, 8)})`);
    // Now, if someone who can complete it is connected (else when one connects, or at a tick).
    for (const p of this.opts.net.connectedPeers()) {
      const hex = toHex(p.publicKey);
      if (hex === req.inviter || roleOf(replica.state, hex) === 'manager') void this.deliverTo(p);
    }
    return { state: 'queued' };
  }

  /**
   * Passes the requests `peer` may complete on to it (all queued ones of workspaces it manages;
   * a device invitation only to its inviter), and records its answers.
   */
  async deliverTo(peer: NetPeerInfo): Promise<void> {
    const hex = toHex(peer.publicKey);
    if (this.stopped || this.delivering.has(hex)) return;
    this.delivering.add(hex);
    let marked: string[] = [];
    try {
      for (const ws of this.opts.service.served()) {
        const replica = this.opts.service.replica(ws.id);
        if (!replica || !replica.isMember(hex)) continue;
        const due = this.due(replica, hex);
        if (due.length === 0) continue;
        // Marked before sending: a manager connected meanwhile does not get the same requests.
        const now = Date.now();
        marked = due.map((j) => `${j.workspace}/${j.joiner}/${j.invite}`);
        for (const k of marked) this.delivered.set(k, now);
        await this.deliver(peer, due.map((j) => JSON.parse(j.request) as unknown), ws.id);
        marked = [];
      }
    } catch (err) {
      // Not passed on: the next tick tries again.
      for (const k of marked) this.delivered.delete(k);
      this.opts.log(`relay: passing join requests to ${hex.slice(0, 8)} failed: ${(err as Error).message}`);
    } finally {
      this.delivering.delete(hex);
    }
  }

  /** Queued requests of `replica`'s workspace that `peerHex` may complete now; settles those that are settled. */
  private due(replica: BlindReplica, peerHex: string): QueuedJoin[] {
    const { db } = this.opts;
    const now = Date.now();
    const manager = roleOf(replica.state, peerHex) === 'manager';
    const out: QueuedJoin[] = [];
    for (const j of db.queuedJoins(replica.idHex, this.limits.perWorkspace)) {
      if ((this.delivered.get(`${j.workspace}/${j.joiner}/${j.invite}`) ?? 0) >= now - REDELIVER_MS) continue;
      if (j.inviter !== peerHex && !manager) continue;
      if (replica.isMember(j.joiner)) continue; // accepted: the joiner learns it when it asks
      let grant: InviteGrant;
      try {
        grant = parseTicket(fromHex((JSON.parse(j.request) as { ticket: string }).ticket));
      } catch {
        db.deleteJoin(j.workspace, j.joiner, j.invite);
        continue;
      }
      if (grant.role === 'device' && j.inviter !== peerHex) continue;
      const why = this.refusal(replica, j, grant);
      if (why) { db.refuseJoin(j.workspace, j.joiner, j.invite, why); continue; }
      out.push(j);
      if (out.length >= MAX_DELIVERY) break;
    }
    return out;
  }

  private async deliver(peer: NetPeerInfo, requests: unknown[], wsHex: string): Promise<void> {
    const { stream } = await this.opts.net.openStream(peer.peerId, RELAY_JOIN_PROTOCOL);
    const fs = new FrameStream(stream);
    const timer = setTimeout(() => stream.abort(new Error('no answer in time')), ANSWER_TIMEOUT_MS);
    try {
      await fs.send({ type: FrameType.joinRequest, body: { op: 'deliver', requests } });
      const first = await fs.frames().next();
      if (first.done) throw new Error('the manager closed the stream without answering');
      const f = first.value;
      if (f.type === FrameType.error) throw new Error(`the manager refused: ${f.message}`);
      if (f.type !== FrameType.joinAccept) throw new Error('unexpected answer');
      const who = toHex(peer.publicKey).slice(0, 8);
      for (const r of parseDeliveryResults(f.body, requests.length)) {
        if (r.ok) continue; // accepted: its `add` entry comes through the sync session
        if (FINAL_CODES.has(r.code)) {
          this.opts.db.refuseJoin(wsHex, r.joiner, r.invite, r.reason);
          this.opts.log(`relay: manager ${who} refused ${r.joiner.slice(0, 8)}'s join request: ${r.reason}`);
        } else {
          this.opts.log(`relay: manager ${who} could not complete ${r.joiner.slice(0, 8)}'s join request (${r.reason}); it stays queued`);
        }
      }
    } finally {
      clearTimeout(timer);
      void stream.close().catch(() => {});
    }
  }
}
