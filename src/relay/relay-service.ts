// The relay's sync side: which workspaces it serves, and the sync sessions members open with it.
//
// A relay serves a workspace only while a valid `relay` control entry names its key (and, if the
// operator restricted it, was written by an allowed manager). When a peer opens a session for a
// workspace the relay does not serve, it is accepted provisionally: its entries are checked and
// held in memory (up to PROVISIONAL_BYTES; beyond that only checked), for a limited time. If the
// control entries contain a valid attachment, the workspace is kept (moved to the store); if the
// peer said SYNCED without one, or the time ran out, everything is dropped. So a party that
// never got a manager to attach the relay cannot make it store anything.
//
// Members always open the sessions (the relay never dials); it answers as any peer would.
// Network-agnostic: it takes ByteStreams (src/relay.ts wires it to libp2p; tests use memory pairs).
import { fromHex, toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { Store } from '../store/store.ts';
import { FrameType, type PeerAddrs } from '../sync/frames.ts';
import { SessionError, SyncSession } from '../sync/session.ts';
import { BlindReplica } from './blind-replica.ts';

/** File chunks the relay holds per workspace (relay-chunks.ts): counted in the quota, dropped on detachment. */
export interface ChunkHolding {
  bytes(workspaceHex: string): number;
  count(workspaceHex: string): number;
  drop(workspaceHex: string): void;
}

/** Workspaces whose attachment the relay verified before it held the entry that shows it. */
export interface AttachmentMarks {
  isVerified(workspaceHex: string): boolean;
  markVerified(workspaceHex: string): void;
  forgetVerified(workspaceHex: string): void;
}

export const PROVISIONAL_BYTES = 4 * 1024 * 1024;
const PROVISIONAL_MS = 60_000;
/** Entries checked (not held) for one provisional workspace, to bound its indexes in memory. */
const PROVISIONAL_MAX_ENTRIES = 200_000;
const MAX_PROVISIONAL = 16;
const MAX_SESSIONS_PER_PROVISIONAL = 4;
/** How long a closing session may take to send what its remote lacks (e.g. its own removal). */
const CLOSE_DRAIN_MS = 5000;

export interface RelayServiceOptions {
  store: Store;
  /** Persistent (relay-db.ts): a relay restarted before it held a long history's attachment still serves it. */
  marks: AttachmentMarks;
  selfKeyHex: string;
  /** Bytes held per workspace. */
  quota: number;
  log: (line: string) => void;
  /** Manager keys whose attachments this relay honours; empty or absent: any manager's. */
  allow?: readonly string[];
  /** Addresses of other members of the workspace connected to this relay (peer exchange). */
  localPeers?: (workspaceHex: string, remoteHex: string) => PeerAddrs[];
  /** File chunks held beside the entries; they share the workspace's quota. */
  chunks?: ChunkHolding;
  /** Overrides for tests. */
  provisionalMs?: number;
  provisionalBytes?: number;
}

interface Slot {
  replica: BlindReplica;
  sessions: Set<SyncSession>;
  provisional: boolean;
  timer?: NodeJS.Timeout;
  unsubscribe: () => void;
}

export interface ServedWorkspace {
  id: string;
  /** Entries and file chunks. */
  bytesHeld: number;
  entries: number;
  /** File chunks held, and the bytes they count against the quota. */
  chunks: number;
  chunkBytes: number;
  quota: number;
  members: number;
  sessions: number;
}

export class RelayService {
  private readonly opts: RelayServiceOptions;
  private readonly slots = new Map<string, Slot>();
  private readonly allow: Set<string>;
  /** What peer exchange last told each session (a digest), so refreshPeers sends only news. */
  private readonly peersSent = new WeakMap<SyncSession, string>();
  private closed = false;

  constructor(opts: RelayServiceOptions) {
    this.opts = opts;
    this.allow = new Set(opts.allow ?? []);
  }

  private log(line: string): void { this.opts.log(line); }

  /** Loads the workspaces held in the store. */
  load(): void {
    for (const id of this.opts.store.workspaceIds()) {
      const replica = new BlindReplica({ id, store: this.opts.store, quota: this.opts.quota, log: this.opts.log, otherBytes: this.chunkBytesOf(toHex(id)) });
      replica.load();
      if (this.attached(replica)) { this.slots.set(replica.idHex, this.slotFor(replica, false)); continue; }
      // Detached while the relay was down (or it stopped before it could drop it).
      this.log(`relay: workspace ${replica.idHex.slice(0, 8)} is no longer attached; dropping its entries`);
      this.drop(replica.idHex, replica.id);
    }
  }

  /** Forgets a workspace the relay no longer serves: its entries, file chunks and marks go. */
  private drop(wsHex: string, id: Uint8Array): void {
    this.opts.store.removeWorkspace(id);
    this.opts.chunks?.drop(wsHex);
    this.opts.marks.forgetVerified(wsHex);
  }

  private chunkBytesOf(wsHex: string): () => number {
    const chunks = this.opts.chunks;
    return chunks ? () => chunks.bytes(wsHex) : () => 0;
  }

  /**
   * True when a valid `relay` entry of an allowed manager attaches this relay, or, while the
   * relay holds only a prefix of the history that does not yet name it, when it verified the
   * attachment earlier (see promote).
   */
  private attached(r: BlindReplica, provisional = false): boolean {
    const self = this.opts.selfKeyHex;
    if (!r.names(self)) return !provisional && this.opts.marks.isVerified(r.idHex);
    const rec = r.state.relays.get(self);
    return rec !== undefined && (this.allow.size === 0 || this.allow.has(rec.by));
  }

  private slotFor(replica: BlindReplica, provisional: boolean): Slot {
    const slot: Slot = { replica, sessions: new Set(), provisional, unsubscribe: () => {} };
    slot.unsubscribe = replica.on((e) => {
      if (e.type === 'control') this.membershipChanged(slot);
      else if (e.type === 'quota') this.overQuota(slot, e.from, e.message);
      // A new fork proof reaches every member connected here now; later ones get it after their VECTOR.
      else if (e.type === 'fork' && !slot.provisional) for (const s of slot.sessions) s.sendFork(e.proof);
    });
    return slot;
  }

  /** Served workspaces: attached and held. */
  served(): ServedWorkspace[] {
    return [...this.slots.values()].filter((s) => !s.provisional && this.attached(s.replica)).map((s) => {
      const chunkBytes = this.opts.chunks?.bytes(s.replica.idHex) ?? 0;
      return {
        id: s.replica.idHex, bytesHeld: s.replica.bytesHeld + chunkBytes, entries: s.replica.entryCount,
        chunks: this.opts.chunks?.count(s.replica.idHex) ?? 0, chunkBytes, quota: s.replica.quotaBytes,
        members: s.replica.state.members.size, sessions: s.sessions.size,
      };
    });
  }

  /** The replica of a served workspace (queued joins use it to check membership). */
  replica(workspaceHex: string): BlindReplica | undefined {
    const s = this.slots.get(workspaceHex);
    return s && !s.provisional && this.attached(s.replica) ? s.replica : undefined;
  }

  /** True when `keyHex` is a member of a workspace served here (circuit relay slots are for them). */
  isMemberAnywhere(keyHex: string): boolean {
    for (const s of this.slots.values()) if (!s.provisional && this.attached(s.replica) && s.replica.isMember(keyHex)) return true;
    return false;
  }

  bytesHeld(): number {
    let n = 0;
    for (const s of this.slots.values()) if (!s.provisional) n += s.replica.bytesHeld + (this.opts.chunks?.bytes(s.replica.idHex) ?? 0);
    return n;
  }

  /** Answers a sync session opened by a peer. */
  accept(stream: ByteStream, remoteKey: Uint8Array): SyncSession {
    const remoteHex = toHex(remoteKey);
    let slot: Slot | undefined;
    const session: SyncSession = new SyncSession(stream, {
      remoteKey,
      log: this.opts.log,
      localPeers: () => (slot && !slot.provisional ? this.peersFor(slot, session) : []),
      // Presence blobs are sealed and signed by members: pass them on to the workspace's other sessions.
      onPresence: (blob, from) => { if (slot && !slot.provisional) for (const s of slot.sessions) if (s !== from) s.sendPresence(blob); },
      // Call signals too (sealed, signed, addressed to one member, which members check).
      onSignal: (blob, from) => { if (slot && !slot.provisional) for (const s of slot.sessions) if (s !== from) s.sendSignal(blob); },
    });
    void session.accept((id) => {
      if (this.closed) return { error: 'not-found', message: 'this relay is stopping' };
      const found = this.lookup(toHex(id), remoteHex);
      if ('error' in found) return found;
      slot = found;
      slot.sessions.add(session);
      return slot.replica;
    }).catch((err: Error) => {
      if (!(err instanceof SessionError)) this.log(`relay: session from ${remoteHex.slice(0, 8)} ended: ${err.message}`);
    }).finally(() => { slot?.sessions.delete(session); });
    // A provisional workspace that the remote finished sending without an attachment is dropped.
    void session.remoteSynced.then(() => {
      if (slot?.provisional && this.slots.get(slot.replica.idHex) === slot) this.settleProvisional(slot, 'synced');
    }, () => {});
    return session;
  }

  private peersFor(slot: Slot, session: SyncSession): PeerAddrs[] {
    const peers = this.opts.localPeers?.(slot.replica.idHex, session.remoteHex) ?? [];
    this.peersSent.set(session, digest(peers));
    return peers;
  }

  /**
   * Peer exchange again: members' addresses change after they connect (a peer behind a NAT takes
   * a relay slot, src/net/), and members come and go. Tells each session the other members of
   * its workspace connected here, when that changed; they then dial each other (through the
   * relay's circuit if they cannot be dialled directly). The relay calls it now and then.
   */
  refreshPeers(): void {
    for (const slot of this.slots.values()) {
      if (slot.provisional || slot.sessions.size < 2) continue;
      for (const s of slot.sessions) {
        if (!s.replica) continue; // not past its handshake yet: it sends PEERS itself
        const peers = this.opts.localPeers?.(slot.replica.idHex, s.remoteHex) ?? [];
        const d = digest(peers);
        if (d === this.peersSent.get(s)) continue;
        this.peersSent.set(s, d);
        if (peers.length > 0) s.send({ type: FrameType.peers, peers }).catch(() => {});
      }
    }
  }

  private lookup(wsHex: string, remoteHex: string): Slot | { error: string; message: string } {
    const existing = this.slots.get(wsHex);
    if (existing && !existing.provisional) {
      if (!this.attached(existing.replica)) return { error: 'not-found', message: 'this relay is not attached to that workspace (any more)' };
      if (!existing.replica.isMember(remoteHex)) return { error: 'forbidden', message: 'not a member of this workspace (as far as this relay knows)' };
      return existing;
    }
    if (existing) {
      if (existing.sessions.size >= MAX_SESSIONS_PER_PROVISIONAL) return { error: 'busy', message: 'this relay is checking that workspace already; try again shortly' };
      return existing;
    }
    let provisional = 0;
    for (const s of this.slots.values()) if (s.provisional) provisional++;
    if (provisional >= MAX_PROVISIONAL) return { error: 'busy', message: 'this relay is checking too many unknown workspaces; try again later' };
    return this.startProvisional(wsHex);
  }

  private startProvisional(wsHex: string): Slot {
    // Held in memory only: nothing reaches the disk before the attachment is seen.
    const store = new MemoryStore();
    const id = fromHex(wsHex);
    store.addWorkspace(id);
    const replica = new BlindReplica({
      id, store, quota: this.opts.provisionalBytes ?? PROVISIONAL_BYTES, log: this.opts.log,
      verifyBeyondQuota: { maxEntries: PROVISIONAL_MAX_ENTRIES }, otherBytes: this.chunkBytesOf(wsHex),
    });
    const slot = this.slotFor(replica, true);
    slot.timer = setTimeout(() => this.settleProvisional(slot, 'timeout'), this.opts.provisionalMs ?? PROVISIONAL_MS);
    slot.timer.unref?.();
    this.slots.set(wsHex, slot);
    this.log(`relay: checking workspace ${wsHex.slice(0, 8)} for an attachment of this relay`);
    return slot;
  }

  /** The remote finished sending, or the time ran out: keep the workspace if attached, else drop it. */
  private settleProvisional(slot: Slot, why: 'synced' | 'timeout'): void {
    if (!slot.provisional || this.slots.get(slot.replica.idHex) !== slot) return;
    if (this.attached(slot.replica, true)) { this.promote(slot); return; }
    if (why === 'synced' && slot.sessions.size > 1) return; // another peer may still be sending it
    clearTimeout(slot.timer);
    slot.unsubscribe();
    this.slots.delete(slot.replica.idHex);
    const message = why === 'timeout'
      ? 'this relay found no attachment of itself in that workspace in time; it stores nothing for it'
      : 'this relay is not attached to that workspace (a manager attaches it with `trellis relay add`); it stores nothing for it';
    this.log(`relay: dropping workspace ${slot.replica.idHex.slice(0, 8)}: not attached (${why})`);
    for (const s of slot.sessions) refuse(s, 'not-found', message);
  }

  private membershipChanged(slot: Slot): void {
    const id = slot.replica.idHex;
    if (slot.provisional) {
      if (this.attached(slot.replica, true)) this.promote(slot);
      return;
    }
    if (!this.attached(slot.replica)) {
      // Detached: stop serving and drop what it held (members hold it all). Should a concurrent
      // control entry make the detachment void later, the next session attaches it afresh.
      this.log(`relay: detached from workspace ${id.slice(0, 8)}; dropping its ${slot.replica.bytesHeld} bytes`);
      this.slots.delete(id);
      slot.unsubscribe();
      for (const s of slot.sessions) refuse(s, 'not-found', 'this relay was detached from the workspace');
      // After the batch being ingested has finished (this runs inside it).
      setImmediate(() => { if (!this.slots.has(id)) this.drop(id, slot.replica.id); });
      return;
    }
    // The history now shows the attachment itself: a mark from a truncated check is no longer needed.
    if (slot.replica.names(this.opts.selfKeyHex) && this.opts.marks.isVerified(id)) this.opts.marks.forgetVerified(id);
    // Removed members are told (their removal is sent), then their sessions close.
    for (const s of slot.sessions) if (!slot.replica.isMember(s.remoteHex)) s.drainAndClose(CLOSE_DRAIN_MS);
  }

  /** A provisional workspace is attached: store it and serve it. */
  private promote(slot: Slot): void {
    const r = slot.replica;
    clearTimeout(slot.timer);
    if (!r.truncated) {
      r.moveTo(this.opts.store, this.opts.quota);
      slot.provisional = false;
      this.log(`relay: attached to workspace ${r.idHex.slice(0, 8)}; serving it (${r.entryCount} entries, ${r.bytesHeld} bytes)`);
      for (const s of slot.sessions) if (!r.isMember(s.remoteHex)) refuse(s, 'forbidden', 'not a member of this workspace');
      return;
    }
    // Only a prefix was held: keep it, remember that the attachment was verified (the prefix does
    // not show it yet), and let the members reconnect to send the rest.
    this.opts.marks.markVerified(r.idHex);
    r.copyTo(this.opts.store);
    slot.unsubscribe();
    const served = new BlindReplica({ id: r.id, store: this.opts.store, quota: this.opts.quota, log: this.opts.log, otherBytes: this.chunkBytesOf(r.idHex) });
    served.load();
    this.slots.set(r.idHex, this.slotFor(served, false));
    this.log(`relay: attached to workspace ${r.idHex.slice(0, 8)}; holding the first ${served.entryCount} entries, the rest comes in the next sessions`);
    for (const s of slot.sessions) refuse(s, 'retry', 'this relay now serves the workspace: sync again to send the rest');
  }

  private overQuota(slot: Slot, fromHex: string, message: string): void {
    if (slot.provisional) return; // a provisional replica checks beyond its memory cap; its sessions are settled elsewhere
    this.log(`relay: workspace ${slot.replica.idHex.slice(0, 8)}: ${message}; refused entries from ${fromHex.slice(0, 8)}`);
    for (const s of slot.sessions) if (s.remoteHex === fromHex) refuse(s, 'quota', `${message}; nothing already stored is lost`);
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots.values()) {
      clearTimeout(slot.timer);
      for (const s of slot.sessions) s.close();
      slot.unsubscribe();
    }
    this.slots.clear();
  }
}

function digest(peers: PeerAddrs[]): string {
  return peers.map((p) => `${toHex(p.key)}=${p.addrs.join(',')}`).sort().join(';');
}

/** Sends ERROR (code, message) and closes: the remote learns why, instead of seeing a reset. */
function refuse(s: SyncSession, code: string, message: string): void {
  s.send({ type: FrameType.error, code, message }).catch(() => {});
  s.close();
}
