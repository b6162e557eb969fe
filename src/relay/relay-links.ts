// The member side of relays: each workspace's state names its attached relays (`relay` control
// entries); a member's peer keeps a connection to each of them (dialled at start, re-dialled with
// backoff after a loss), so that the ordinary sync sessions push its new entries there and pull
// what others left. It also remembers why a relay last refused us (a full quota), for
// `trellis relay list`, and tries such a relay again now and then.
import { toHex } from '../core/bytes.ts';
import type { RelayRecord } from '../core/membership.ts';
import type { NetNode, NetPeerInfo } from '../net/libp2p-node.ts';
import { SessionError, type SyncSession } from '../sync/session.ts';
import type { Workspace } from '../workspace/workspace.ts';

const TICK_MS = 1000;
const REDIAL_MIN_MS = 1000;
const REDIAL_MAX_MS = 10_000;
/** A relay that refused our entries for its quota is tried again this much later. */
export const QUOTA_RETRY_MS = 60_000;

export interface RelayLinksHost {
  net: Pick<NetNode, 'dial' | 'connectedPeers'>;
  selfHex: string;
  workspaces: () => Iterable<Workspace>;
  /** Whether we still sync `ws` with this relay (after we left: until it holds our removal). */
  stillSyncs: (ws: Workspace, relayHex: string) => boolean;
  /** Opens a sync session for workspace `wsHex` with a connected relay, if none is open. */
  resync: (wsHex: string, relay: NetPeerInfo) => void;
  log: (line: string) => void;
}

export interface RelayLinkInfo {
  key: string;
  addrs: string[];
  /** The manager who attached it. */
  by: string;
  connected: boolean;
  /** Why the relay last ended a session with us, if it did (e.g. its quota is full). */
  error?: { code: string; message: string; at: number };
}

interface DialState { failures: number; next: number; dialing: boolean }

export class RelayLinks {
  private readonly host: RelayLinksHost;
  private readonly dials = new Map<string, DialState>();
  /** `${ws}/${relay}` → the last refusal. */
  private readonly errors = new Map<string, { code: string; message: string; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(host: RelayLinksHost) { this.host = host; }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.tick();
  }

  /** Membership (and so maybe the relays) changed: dial new relays now. */
  poke(): void {
    if (!this.stopped) setImmediate(() => this.tick());
  }

  /** True when `keyHex` is a relay attached to `ws`: we sync the workspace with it like with a member. */
  static isRelayOf(ws: Workspace, keyHex: string): boolean {
    return ws.state.relays.has(keyHex);
  }

  private wanted(): Map<string, RelayRecord> {
    const out = new Map<string, RelayRecord>();
    for (const ws of this.host.workspaces()) {
      // A replica that knows no members yet (just joined) has no relay to reach; one we left may
      // still have to hand our leave to one.
      if (!ws.isMember(this.host.selfHex) && !ws.removedSelf) continue;
      for (const [k, r] of ws.state.relays) if (k !== this.host.selfHex && !out.has(k) && this.host.stillSyncs(ws, k)) out.set(k, r);
    }
    return out;
  }

  private tick(): void {
    if (this.stopped) return;
    const connected = new Set(this.host.net.connectedPeers().map((p) => toHex(p.publicKey)));
    const now = Date.now();
    for (const [key, rec] of this.wanted()) {
      let d = this.dials.get(key);
      if (!d) { d = { failures: 0, next: 0, dialing: false }; this.dials.set(key, d); }
      if (connected.has(key)) { d.failures = 0; d.next = 0; continue; }
      if (d.dialing || now < d.next) continue;
      void this.dial(key, rec, d);
    }
  }

  private async dial(key: string, rec: RelayRecord, d: DialState): Promise<void> {
    d.dialing = true;
    try {
      for (const addr of rec.addrs) {
        if (this.stopped) return;
        try {
          const p = await this.host.net.dial(addr);
          if (toHex(p.publicKey) === key) { d.failures = 0; return; }
          this.host.log(`relay: the address ${addr} answers as another peer than relay ${key.slice(0, 8)}`);
        } catch { /* try the next address */ }
      }
      d.failures++;
      const delay = Math.min(REDIAL_MIN_MS * 2 ** (d.failures - 1), REDIAL_MAX_MS);
      d.next = Date.now() + delay;
      if (d.failures <= 3 || d.failures % 30 === 0) this.host.log(`relay: cannot reach relay ${key.slice(0, 8)} (attempt ${d.failures}); retrying in ${delay} ms`);
    } finally {
      d.dialing = false;
    }
  }

  /** A sync session with a relay started: a completed sync clears an earlier refusal. */
  sessionOpened(wsHex: string, relayHex: string, session: SyncSession): void {
    void session.remoteSynced.then(() => { this.errors.delete(`${wsHex}/${relayHex}`); }, () => {});
  }

  /** A sync session with a relay ended with `err`: remember a refusal, and retry a full relay later. */
  sessionEnded(wsHex: string, relay: NetPeerInfo, err: Error): void {
    if (!(err instanceof SessionError) || err.code === 'closed' || err.code === 'duplicate') return;
    const relayHex = toHex(relay.publicKey);
    const message = err.message.replace(/^the remote (reported|refused): /, '');
    this.errors.set(`${wsHex}/${relayHex}`, { code: err.code, message, at: Date.now() });
    if (err.code === 'quota') {
      this.host.log(`relay: relay ${relayHex.slice(0, 8)} refused entries of workspace ${wsHex.slice(0, 8)}: ${message}; trying again in ${QUOTA_RETRY_MS / 1000} s`);
      setTimeout(() => { if (!this.stopped) this.host.resync(wsHex, relay); }, QUOTA_RETRY_MS).unref();
    }
  }

  /** The relays attached to `ws`, whether we are connected, and their last refusal. */
  list(ws: Workspace): RelayLinkInfo[] {
    const connected = new Set(this.host.net.connectedPeers().map((p) => toHex(p.publicKey)));
    return [...ws.state.relays.values()].map((r) => {
      const error = this.errors.get(`${ws.idHex}/${r.keyHex}`);
      return { key: r.keyHex, addrs: [...r.addrs], by: r.by, connected: connected.has(r.keyHex), ...(error ? { error } : {}) };
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
