// The joiner's side of joins queued at a relay: when the inviter cannot be reached, the request
// is queued at a relay named in the invitation code; the joiner asks again now and then until
// the relay says a manager accepted it (the joiner is a member there), then syncs the workspace
// from that relay. Pending joins survive restarts (pending-joins.ts) and complete on a later start.
import { toHex } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import { peerIdOfPublicKey, type NetNode, type NetPeerInfo } from '../net/libp2p-node.ts';
import type { Identity } from '../store/identity-file.ts';
import { decodeInvite, type DecodedInvite, type Invite } from '../workspace/invite-code.ts';
import { joinRequestFor } from '../workspace/join.ts';
import { askRelay } from './join-client.ts';
import { PendingJoinsFile } from './pending-joins.ts';
import { signQueuedRequest, type QueueAnswer } from './queued-join.ts';

/** A relay's answer, or its refusal to queue the request at all (then no relay is named): for good, or for now. */
type Answer = (QueueAnswer & { relay: NetPeerInfo }) | { state: 'refused' | 'busy'; reason: string; relay?: undefined };

const POLL_MIN_MS = 1000;
const POLL_MAX_MS = 10_000;

export interface PendingJoinInfo {
  workspace: string;
  /** The workspace name the invitation carries (the inviter's word for it). */
  name: string;
  state: 'queued' | 'joining' | 'refused' | 'expired';
  /** Key of the relay holding the request. */
  relay?: string;
  since: number;
  /** Why it was refused, or what the last attempt ran into. */
  reason?: string;
}

/** Addresses of an invitation: the inviter's own, and relays' (they end with another peer id). */
export function splitInviteAddrs(inv: Invite): { inviter: string[]; relays: string[] } {
  const inviterId = peerIdOfPublicKey(inv.inviter);
  const out = { inviter: [] as string[], relays: [] as string[] };
  for (const a of inv.addrs) {
    const last = /\/p2p\/([^/]+)$/.exec(a)?.[1];
    if (last === undefined || last === inviterId) out.inviter.push(a);
    else out.relays.push(a);
  }
  return out;
}

export interface RelayJoinsHost {
  net: Pick<NetNode, 'openStream'>;
  identity: Identity;
  home: string;
  log: (line: string) => void;
  /** Completes an accepted join: registers the workspace (if new) and syncs it from `relay`. */
  complete: (inv: Invite, relay: NetPeerInfo) => Promise<void>;
}

interface Pending {
  inv: DecodedInvite;
  code: string;
  info: PendingJoinInfo;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  running: boolean;
}

export class RelayJoins {
  private readonly host: RelayJoinsHost;
  private readonly file: PendingJoinsFile;
  private readonly joins = new Map<string, Pending>();
  private stopped = false;

  constructor(host: RelayJoinsHost) {
    this.host = host;
    this.file = new PendingJoinsFile(host.home, host.log);
  }

  /** Picks up the joins left pending by an earlier run. */
  resume(): void {
    for (const rec of this.file.read()) {
      let inv: DecodedInvite;
      try { inv = decodeInvite(rec.code); } catch { this.file.remove(rec.code); continue; }
      const p = this.track(inv, rec.code, rec.since);
      this.host.log(`join: resuming the join of workspace ${p.info.workspace.slice(0, 8)} queued at a relay`);
      void this.run(p);
    }
  }

  /**
   * Queues the request at the first relay of the invitation that answers. Resolves with that
   * relay's answer ('queued' or 'accepted'); throws TrellisError when refused or no relay answers.
   */
  async queue(inv: DecodedInvite, code: string): Promise<QueueAnswer & { relay: NetPeerInfo }> {
    const ans = await this.ask(inv);
    if (!ans) throw new TrellisError('unavailable', 'cannot reach the inviter nor any relay named in the invitation: is any of them running?');
    if (ans.state === 'busy') throw new TrellisError('unavailable', `no relay named in the invitation queued the request: ${ans.reason}`);
    if (ans.relay === undefined || ans.state === 'refused') throw new TrellisError('forbidden', `the join was refused: ${ans.reason ?? 'no reason given'}`);
    const known = this.joins.get(toHex(inv.workspace));
    const p = known && (known.info.state === 'queued' || known.info.state === 'joining') ? known : this.track(inv, code, Date.now());
    p.info.relay = toHex(ans.relay.publicKey);
    this.file.add(code);
    if (!p.running) void this.run(p, ans);
    return ans;
  }

  /** Waits until the pending join of `wsHex` completes; TrellisError('unavailable') at the deadline. */
  async wait(wsHex: string, deadline: number): Promise<void> {
    const p = this.joins.get(wsHex);
    if (!p) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new TrellisError('unavailable',
        'the inviter (or another manager) has not accepted yet; the request stays queued at the relay and the join completes in the background (see `trellis join --status`)')), Math.max(0, deadline - Date.now()));
      timer.unref?.();
    });
    try { await Promise.race([p.done, timeout]); } finally { clearTimeout(timer); }
  }

  list(): PendingJoinInfo[] {
    return [...this.joins.values()].map((p) => ({ ...p.info }));
  }

  has(wsHex: string): boolean {
    const p = this.joins.get(wsHex);
    return p !== undefined && (p.info.state === 'queued' || p.info.state === 'joining');
  }

  stop(): void { this.stopped = true; }

  private track(inv: DecodedInvite, code: string, since: number): Pending {
    const wsHex = toHex(inv.workspace);
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    done.catch(() => {}); // callers that never wait must not see an unhandled rejection
    const p: Pending = { inv, code, info: { workspace: wsHex, name: inv.workspaceName, state: 'queued', since }, done, resolve, reject, running: false };
    this.joins.set(wsHex, p);
    return p;
  }

  /**
   * Asks the relays of the invitation in turn; undefined if none answers. A relay that refuses
   * for now (its limits) is remembered, so the joiner learns why rather than "cannot reach".
   */
  private async ask(inv: DecodedInvite): Promise<Answer | undefined> {
    const request = signQueuedRequest(joinRequestFor(inv, this.host.identity), inv, this.host.identity.signing);
    let refusal: TrellisError | undefined;
    let busy: TrellisError | undefined;
    for (const addr of splitInviteAddrs(inv).relays) {
      try {
        return await askRelay(this.host.net, addr, request);
      } catch (err) {
        if (err instanceof TrellisError && err.code === 'forbidden') refusal = err;
        else if (err instanceof TrellisError && err.code === 'unavailable' && err.message.startsWith('the relay refused: ')) busy = err;
      }
    }
    if (refusal) return { state: 'refused', reason: refusal.message.replace(/^the relay refused: /, '') };
    if (busy) return { state: 'busy', reason: busy.message };
    return undefined;
  }

  private async run(p: Pending, first?: QueueAnswer & { relay: NetPeerInfo }): Promise<void> {
    p.running = true;
    let delay = POLL_MIN_MS;
    let ans: Answer | undefined = first;
    try {
      while (!this.stopped && this.joins.get(p.info.workspace) === p) {
        if (p.inv.expires < Date.now()) {
          this.finish(p, 'expired', `the invitation expired on ${new Date(p.inv.expires).toISOString()} before the inviter accepted it`);
          return;
        }
        ans ??= await this.ask(p.inv).catch(() => undefined);
        if (ans?.state === 'busy') p.info.reason = ans.reason;
        if (ans?.state === 'refused') {
          this.finish(p, 'refused', ans.reason ?? 'refused by the inviter');
          return;
        }
        if (ans?.state === 'accepted' && ans.relay !== undefined) {
          p.info.state = 'joining';
          p.info.relay = toHex(ans.relay.publicKey);
          try {
            await this.host.complete(p.inv, ans.relay);
            this.file.remove(p.code);
            this.joins.delete(p.info.workspace);
            this.host.log(`join: joined workspace ${p.info.workspace.slice(0, 8)} through relay ${p.info.relay.slice(0, 8)}`);
            p.resolve();
            return;
          } catch (err) {
            p.info.state = 'queued';
            p.info.reason = (err as Error).message;
            this.host.log(`join: completing the join of ${p.info.workspace.slice(0, 8)} failed: ${(err as Error).message}; trying again`);
          }
        }
        ans = undefined;
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(Math.round(delay * 1.5), POLL_MAX_MS);
      }
    } finally {
      p.running = false;
    }
  }

  private finish(p: Pending, state: 'refused' | 'expired', reason: string): void {
    p.info.state = state;
    p.info.reason = reason;
    this.file.remove(p.code);
    this.host.log(`join: the join of workspace ${p.info.workspace.slice(0, 8)} ended: ${reason}`);
    p.reject(new TrellisError('forbidden', reason));
  }
}
