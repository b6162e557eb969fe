// Peer: one person's device. Wires store + net + sync + workspaces + tools; the SDK entry point.
// The daemon and tests drive a Peer; everything a user can do goes through its methods.
import { join } from 'node:path';
import { compareBytes, fromHex, toHex } from './core/bytes.ts';
import { decodeEntry, EntryKind, type Entry } from './core/entry.ts';
import { auditHistory } from './core/history-audit.ts';
import { entryCrypto } from './crypto/entry-seal.ts';
import { TrellisError } from './core/errors.ts';
import { isDiskFull } from './core/io-errors.ts';
import { isRole, parseControl, type ControlPayload, type PermissionTable } from './core/membership.ts';
import { EntryPreparer } from './crypto/entry-preparer.ts';
import { deriveStorageKey, openLocal, sealLocal } from './crypto/local-seal.ts';
import { randomBytes } from './crypto/sodium.ts';
import { createNetNode, type NetNode, type NetPeerInfo } from './net/libp2p-node.ts';
import type { AuditItem, ChatMessage, HistoryVerification, InviteInfo, InviteOptions, MemberInfo, PeerEvent, PeerStatus, WorkspaceInfo } from './peer-api.ts';
import { loadIdentity, type Identity } from './store/identity-file.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { Store } from './store/store.ts';
import { FrameStream } from './sync/frame-stream.ts';
import { JOIN_PROTOCOL, SYNC_PROTOCOL, type PeerAddrs } from './sync/frames.ts';
import { SessionError, SyncSession } from './sync/session.ts';
import { ChatTool, encodeChat, refuseChatText } from './tools/chat/chat-tool.ts';
import { DocTool, encodeDocUpdate } from './tools/docs/doc-tool.ts';
import { CHUNKS_PROTOCOL, FilesService } from './tools/files/files-service.ts';
import { createWorkspace } from './workspace/create-workspace.ts';
import { decodeInvite, encodeInvite } from './workspace/invite-code.ts';
import { newEpoch } from './workspace/control-builders.ts';
import { keyCare } from './workspace/key-care.ts';
import { ANNOUNCE_MS, MAX_CURSOR_CHARS, openPresence, PresenceTable, sealPresence, type PresenceState } from './workspace/presence.ts';
import { CALL_ID } from './workspace/call-signal.ts';
import { CallSignalling } from './workspace/call-signalling.ts';
import { TurnClient } from './relay/turn-client.ts';
import { answerJoin, inviteIdOf, requestJoin } from './workspace/join.ts';
import { Workspace, type WorkspaceContext } from './workspace/workspace.ts';
import * as Y from 'yjs';
import type { Role } from './core/membership.ts';
import type { DocAccess, DocMember, HistoryItem } from './tools/doc-access.ts';
import { DOC_ID_BYTES, docIdOf, REGISTRY_DOC_ID } from './tools/docs/doc-tool.ts';
// -- relays (src/relay/): attached relays are sync partners; RelayLinks keeps us connected to them --
import { RelayLinks, type RelayLinkInfo } from './relay/relay-links.ts';
import { parseRelayAddress } from './relay/relay-address.ts';
import { RelayJoins, splitInviteAddrs, type PendingJoinInfo } from './relay/relay-joins.ts';
import { answerDeliveries } from './relay/join-client.ts';
import { RELAY_JOIN_PROTOCOL } from './relay/queued-join.ts';
import type { Invite } from './workspace/invite-code.ts';

export interface PeerOptions {
  /** Home directory: identity.json, trellis.db. The identity must exist (see store/identity-file.ts). */
  home: string;
  /** libp2p listen multiaddrs; default ['/ip4/127.0.0.1/tcp/0']. */
  listen?: string[];
  /** Multiaddrs (with /p2p/ID) dialled at start and re-dialled when lost. */
  bootstrap?: string[];
  /** mDNS discovery on the LAN; default true. */
  mdns?: boolean;
  /** mDNS service name (tests use their own so parallel runs do not meet). */
  mdnsServiceTag?: string;
  /** Where log lines go (one line each; never keys, tokens or message texts). Default: stderr. */
  log?: (line: string) => void;
  /** Store override (tests, benchmarks); default SQLite in the home directory. */
  store?: Store;
  /**
   * Circuit relay client (NAT traversal through the relays of our workspaces): dial relayed
   * addresses, reserve a slot on the relays we connect to, upgrade with DCUtR. Default true.
   */
  relayClient?: boolean;
  /** Calls only through relays' TURN servers (callServers says so to our browser): callers never learn our addresses. */
  callsViaRelay?: boolean;
}

const DEFAULT_INVITE_MS = 7 * 24 * 3600_000;
const JOIN_SYNC_TIMEOUT_MS = 300_000;
/** How long `join` waits for an offline inviter to accept a request queued at a relay. */
const JOIN_QUEUE_WAIT_MS = 600_000;
const RESYNC_DELAY_MS = 1000;
/** How long deleting a workspace we just left waits for a connected member or relay to show it has our leave. */
const DELETE_WAIT_MS = 5000;
/** ...and after one that failed because our disk is full. */
const DISK_FULL_RESYNC_MS = 30_000;
const KEY_CARE_DELAY_MS = 100;
/** A document change is one entry; entries are at most 1 MiB with their header and signature. */
const MAX_DOC_CHANGE_BYTES = 1000 * 1024;
const IDLE_AFTER_MS = 15 * 60_000;
// 'quota': a relay refused our entries; RelayLinks tries it again later, not every second.
const REFUSALS = new Set(['forbidden', 'not-found', 'duplicate', 'version', 'quota']);

interface SessionSlot {
  session?: SyncSession;
  /** True when we opened it (the tie-break for simultaneous opens needs to know). */
  mine: boolean;
}

/** Marks Yjs transactions made through changeDoc, to capture exactly their update. */
const LOCAL_CHANGE = Symbol('trellis local change');

export class Peer implements DocAccess {
  readonly identity: Identity;
  readonly keyHex: string;
  private readonly store: Store;
  private readonly storageKey: Uint8Array;
  private readonly log: (line: string) => void;
  private readonly ctx: WorkspaceContext;
  /** Hashes and opens received batches on a worker thread, beside the main thread's ingest. */
  private readonly preparer = new EntryPreparer();
  private readonly chat: ChatTool;
  private readonly docs: DocTool;
  private readonly workspaces = new Map<string, Workspace>();
  private readonly sessions = new Map<string, SessionSlot>();
  /**
   * `${ws}/${partner}`: partners that refused us as no longer a member of a workspace we left or
   * were removed from, proof that they hold the removal. Until a partner has, we keep syncing that
   * workspace with it: our last entries, the leave above all, may have reached no one (a leave
   * while no one was online would otherwise stay ours alone: still a member for everyone else,
   * and the key never replaced).
   */
  private readonly knowsWeLeft = new Set<string>();
  private readonly keyCare = new Set<string>();
  /** Presence per workspace (ephemeral), our own announced state, and what drives it. */
  private readonly presence = new Map<string, PresenceTable>();
  private readonly ownPresence = new Map<string, PresenceState>();
  private presenceCounter = 0;
  private turnClient: TurnClient | undefined;
  private callsViaRelay = false;
  private readonly callSignalling: CallSignalling;
  private lastActivity = Date.now();
  private presenceTimer: NodeJS.Timeout | undefined;
  /** Workspace id → the inviter's key, for workspaces joined in this run. */
  private readonly inviters = new Map<string, string>();
  private readonly listeners = new Set<(e: PeerEvent) => void>();
  private readonly docListeners = new Set<(ws: string, doc: string) => void>();
  private net!: NetNode;
  /** Relays attached to our workspaces: connections and their last refusals (src/relay/relay-links.ts). */
  private relayLinks!: RelayLinks;
  /** Our joins queued at relays while the inviter is offline (src/relay/relay-joins.ts). */
  private relayJoins!: RelayJoins;
  /** The files tool (src/tools/files): add, get, versions; serves and fetches chunks. */
  files!: FilesService;
  private stopped = false;

  private constructor(identity: Identity, store: Store, log: (line: string) => void) {
    this.identity = identity;
    this.keyHex = toHex(identity.signing.publicKey);
    this.store = store;
    this.log = log;
    this.storageKey = deriveStorageKey(identity.signing.secretKey);
    this.chat = new ChatTool((workspace, message) => this.emit({ type: 'chat', workspace, message }));
    this.docs = new DocTool((workspace, doc) => {
      this.emit({ type: 'doc', workspace, doc });
      for (const l of this.docListeners) l(workspace, doc);
    });
    this.callSignalling = new CallSignalling({
      signing: identity.signing, selfHex: this.keyHex, sessionsOf: (ws) => this.sessionsOf(ws),
      deliver: (workspace, from, signal) => this.emit({ type: 'call-signal', workspace, from, signal }),
    });
    this.ctx = {
      store, signing: identity.signing, agreement: identity.agreement, log,
      handlers: new Map<number, ChatTool | DocTool>([[this.chat.kind, this.chat], [this.docs.kind, this.docs]]),
      saveKey: (ws, epoch, key) => this.saveKey(ws, epoch, key),
      preparer: this.preparer,
    };
  }

  static async start(opts: PeerOptions): Promise<Peer> {
    const identity = loadIdentity(opts.home);
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    const store = opts.store ?? new SqliteStore(join(opts.home, 'trellis.db'));
    const peer = new Peer(identity, store, log);
    peer.callsViaRelay = opts.callsViaRelay === true;
    try {
      void peer.preparer.warm(); // loads beside the workspaces, ready for the first catch-up
      peer.loadWorkspaces();
      const relayClient = opts.relayClient ?? true;
      const listen = opts.listen?.length ? opts.listen : ['/ip4/127.0.0.1/tcp/0'];
      peer.net = await createNetNode({
        signingSecretKey: identity.signing.secretKey,
        // '/p2p-circuit': reachable through a relay slot too (src/relay/), for peers behind NATs.
        listen: relayClient && !listen.includes('/p2p-circuit') ? [...listen, '/p2p-circuit'] : listen,
        relayClient,
        bootstrap: opts.bootstrap ?? [],
        mdns: opts.mdns ?? true,
        ...(opts.mdnsServiceTag ? { mdnsServiceTag: opts.mdnsServiceTag } : {}),
        log,
      });
    } catch (err) {
      store.close();
      throw err;
    }
    await peer.net.handle(SYNC_PROTOCOL, (stream, remote) => peer.acceptSync(new SyncSession(stream, peer.sessionOptions(remote)), remote));
    await peer.net.handle(JOIN_PROTOCOL, (stream, remote) => {
      void answerJoin(new FrameStream(stream), remote.publicKey, peer.store, (id) => peer.workspaces.get(id), log)
        .finally(() => { void stream.close().catch(() => {}); });
    });
    // -- files tool: chunk store, /trellis/chunks/1.0.0 and keep-all fetching (src/tools/files) --
    // Relays attached to a workspace are chunk sources too, and get the chunks we hold pushed to them.
    peer.files = new FilesService({
      home: opts.home, docs: peer, net: peer.net, log, emit: (e) => peer.emit(e),
      relays: {
        of: (ws) => { const w = peer.workspaces.get(ws); return w && !w.removedSelf ? [...w.state.relays.keys()] : []; },
        workspacesOf: (key) => [...peer.workspaces.values()].filter((w) => !w.removedSelf && RelayLinks.isRelayOf(w, key)).map((w) => w.idHex),
      },
    });
    await peer.net.handle(CHUNKS_PROTOCOL, (stream, remote) => peer.files.serve(stream, remote));
    peer.files.start();
    // -- end files tool --
    peer.net.onPeerConnected((p) => peer.onConnected(p));
    peer.net.onPeerDisconnected((p) => {
      for (const table of peer.presence.values()) table.forget(toHex(p.publicKey));
      peer.emitMembersOf(p);
    });
    peer.presenceTimer = setInterval(() => peer.announceAll(), ANNOUNCE_MS);
    peer.presenceTimer.unref();
    // -- relays: dial every relay attached to our workspaces, now and after losses --
    peer.relayLinks = new RelayLinks({
      net: peer.net, selfHex: peer.keyHex, log, workspaces: () => peer.workspaces.values(),
      stillSyncs: (ws, relayHex) => peer.stillSyncs(ws, relayHex),
      resync: (wsHex, relay) => { const ws = peer.workspaces.get(wsHex); if (ws) peer.ensureSession(ws, relay); },
    });
    // Join requests relays pass on to us as a manager (inviter or not); our own joins left pending at relays.
    await peer.net.handle(RELAY_JOIN_PROTOCOL, (stream, remote) => answerDeliveries(stream, remote, {
      selfHex: peer.keyHex, store: peer.store, findWorkspace: (id) => peer.workspaces.get(id), isRelayOf: RelayLinks.isRelayOf, log,
    }));
    peer.relayLinks.start();
    peer.relayJoins = new RelayJoins({ net: peer.net, identity, home: opts.home, log, complete: (inv, relay) => peer.completeRelayJoin(inv, relay) });
    peer.relayJoins.resume();
    // Members we met before: dial them (bootstrap addresses are dialled by the net layer).
    for (const { key, addrs } of store.peerAddrs()) if (peer.isMemberAnywhere(toHex(key))) peer.dialAny(addrs);
    return peer;
  }

  private loadWorkspaces(): void {
    for (const id of this.store.workspaceIds()) {
      const keys = new Map<number, Uint8Array>();
      for (const { epoch, sealedKey } of this.store.keys(id)) {
        const key = openLocal(sealedKey, this.storageKey, id);
        if (key) keys.set(epoch, key);
        else this.log(`workspace ${toHex(id).slice(0, 8)}: key for epoch ${epoch} cannot be opened with this identity`);
      }
      const ws = new Workspace(this.ctx, id, keys);
      ws.load();
      this.register(ws);
    }
  }

  private register(ws: Workspace): void {
    this.workspaces.set(ws.idHex, ws);
    ws.on((e) => {
      if (e.type === 'members') {
        this.emit({ type: 'members', workspace: ws.idHex });
        // New members may be connected already: start syncing with them.
        for (const p of this.net?.connectedPeers() ?? []) this.ensureSession(ws, p);
        // Members who left (and relays detached) may still be connected: stop syncing with them.
        for (const [k, slot] of this.sessions) {
          if (k.startsWith(ws.idHex + '/') && !this.isSyncPartner(ws, k.slice(ws.idHex.length + 1))) slot.session?.drainAndClose();
        }
        this.relayLinks?.poke(); // relays attached meanwhile: dial them
        this.scheduleKeyCare(ws);
      } else if (e.type === 'removed') {
        this.log(`workspace ${ws.idHex.slice(0, 8)}: we were removed; no longer syncing it`);
        for (const [k, slot] of this.sessions) if (k.startsWith(ws.idHex + '/')) slot.session?.drainAndClose();
        this.emit({ type: 'removed', workspace: ws.idHex });
      } else if (e.type === 'fork') {
        for (const session of this.sessionsOf(ws.idHex)) session.sendFork(e.proof);
      } else if (e.type === 'rejected') {
        this.emit({ type: 'rejected', workspace: ws.idHex, author: e.rejection.author, reason: e.rejection.reason });
      }
    });
  }

  /**
   * Key care, done by any manager online: if the current key was sealed to someone no longer a
   * member (a removal without rotation, e.g. a member left, or concurrent rotations), start a new
   * epoch; if a member lacks the current key (added concurrently with a rotation), share it.
   * Several managers may do it at once; the extra entries are harmless.
   */
  private scheduleKeyCare(ws: Workspace): void {
    if (this.keyCare.has(ws.idHex)) return;
    this.keyCare.add(ws.idHex);
    setTimeout(() => {
      this.keyCare.delete(ws.idHex);
      if (this.stopped || this.workspaces.get(ws.idHex) !== ws) return; // deleted meanwhile
      try {
        for (const c of keyCare(ws)) ws.appendControl(c);
      } catch (err) {
        this.log(`workspace ${ws.idHex.slice(0, 8)}: key care failed: ${(err as Error).message}`);
      }
    }, KEY_CARE_DELAY_MS).unref();
  }

  private saveKey(ws: Uint8Array, epoch: number, key: Uint8Array): void {
    this.store.putKey(ws, epoch, sealLocal(key, this.storageKey, ws));
  }

  // ---- sessions ----

  private sessionOptions(remote: NetPeerInfo) {
    return {
      remoteKey: remote.publicKey,
      log: this.log,
      localPeers: () => this.peersFor(remote),
      onPeers: (peers: PeerAddrs[]) => this.learnPeers(peers),
      onPresence: (blob: Uint8Array, from: SyncSession) => this.receivePresence(blob, from),
      onSignal: (blob: Uint8Array, from: SyncSession) => this.receiveSignal(blob, from),
    };
  }

  private slotKey(ws: Workspace, remoteHex: string): string { return `${ws.idHex}/${remoteHex}`; }

  private onConnected(p: NetPeerInfo): void {
    const hex = toHex(p.publicKey);
    if (this.isMemberAnywhere(hex)) this.store.setPeerAddrs(p.publicKey, this.net.addrsOf(p.peerId));
    for (const ws of this.workspaces.values()) this.ensureSession(ws, p);
    this.emitMembersOf(p);
  }

  private emitMembersOf(p: NetPeerInfo): void {
    const hex = toHex(p.publicKey);
    for (const ws of this.workspaces.values()) if (ws.isMember(hex)) this.emit({ type: 'members', workspace: ws.idHex });
  }

  private isMemberAnywhere(hex: string): boolean {
    for (const ws of this.workspaces.values()) if (ws.isMember(hex)) return true;
    return false;
  }

  /** Members, and relays attached to the workspace, are who we sync it with. */
  private isSyncPartner(ws: Workspace, hex: string): boolean {
    return ws.isMember(hex) || RelayLinks.isRelayOf(ws, hex);
  }

  /** Whether we still sync `ws` with `partnerHex`: yes, unless we are out and it knows (knowsWeLeft). */
  private stillSyncs(ws: Workspace, partnerHex: string): boolean {
    return !ws.removedSelf || !this.knowsWeLeft.has(this.slotKey(ws, partnerHex));
  }

  /** Opens a sync session with a connected member (or attached relay) unless one exists. */
  private ensureSession(ws: Workspace, p: NetPeerInfo): void {
    const hex = toHex(p.publicKey);
    if (this.stopped || hex === this.keyHex || this.workspaces.get(ws.idHex) !== ws || !this.isSyncPartner(ws, hex) || !this.stillSyncs(ws, hex)) return;
    const k = this.slotKey(ws, hex);
    if (this.sessions.has(k)) return;
    const slot: SessionSlot = { mine: true };
    this.sessions.set(k, slot);
    void this.openSession(ws, p, slot, k);
  }

  private async openSession(ws: Workspace, p: NetPeerInfo, slot: SessionSlot, k: string): Promise<SyncSession | undefined> {
    let session: SyncSession;
    try {
      const { stream } = await this.net.openStream(p.peerId, SYNC_PROTOCOL);
      if (this.sessions.get(k) !== slot || this.stopped) { stream.abort(); return undefined; }
      session = new SyncSession(stream, this.sessionOptions(p));
      slot.session = session;
    } catch (err) {
      if (this.sessions.get(k) === slot) this.sessions.delete(k);
      this.log(`sync: cannot open a session with ${p.peerId}: ${(err as Error).message}`);
      return undefined;
    }
    let retry = true;
    let delay = RESYNC_DELAY_MS;
    const toRelay = RelayLinks.isRelayOf(ws, toHex(p.publicKey));
    if (toRelay) this.relayLinks.sessionOpened(ws.idHex, toHex(p.publicKey), session);
    void session.initiate(ws).catch((err: Error) => {
      // A refusal (not a member as far as they know, duplicate) is retried only when membership changes.
      if (err instanceof SessionError && REFUSALS.has(err.code)) retry = false;
      if (err instanceof SessionError && err.code === 'forbidden' && ws.removedSelf) this.knowsWeLeft.add(k);
      // Our disk is full: what they send cannot be stored for a while; do not ask every second.
      if (isDiskFull(err)) delay = DISK_FULL_RESYNC_MS;
      if (toRelay) this.relayLinks.sessionEnded(ws.idHex, p, err);
      if (!(err instanceof SessionError && err.code === 'duplicate')) this.log(`sync: session with ${toHex(p.publicKey).slice(0, 8)} ended: ${err.message}`);
    }).finally(() => this.sessionEnded(ws, p, slot, k, retry, delay));
    return session;
  }

  private acceptSync(session: SyncSession, remote: NetPeerInfo): void {
    const remoteHex = toHex(remote.publicKey);
    let slot: SessionSlot | undefined;
    let key = '';
    let ws: Workspace | undefined;
    void session.accept((id, remoteKey) => {
      ws = this.workspaces.get(toHex(id));
      if (!ws) return { error: 'not-found', message: 'unknown workspace' };
      // A replica we just joined knows no members until its first sync: it trusts its inviter.
      // (A workspace we left is still synced with members who open a session: they do not know yet.)
      if (!ws.isMember(toHex(remoteKey)) && this.inviters.get(ws.idHex) !== remoteHex) return { error: 'forbidden', message: 'not a member of this workspace (as far as this peer knows)' };
      key = this.slotKey(ws, remoteHex);
      const existing = this.sessions.get(key);
      // Both sides opened at once: keep the session opened by the smaller key, on both sides.
      if (existing?.mine && this.keyHex < remoteHex) return { error: 'duplicate', message: 'a session exists already' };
      existing?.session?.close();
      slot = { session, mine: false };
      this.sessions.set(key, slot);
      return ws;
    }).catch((err: Error) => {
      if (!(err instanceof SessionError)) this.log(`sync: incoming session from ${remoteHex.slice(0, 8)} ended: ${err.message}`);
      else if (err.code === 'forbidden' || err.code === 'not-found') this.logRefusal(remoteHex, err.message);
    }).finally(() => { if (slot && ws) this.sessionEnded(ws, remote, slot, key, true); });
  }

  /** Refused sessions are logged, at most once a minute per remote, so a pest cannot fill the log. */
  private readonly refusalsLogged = new Map<string, number>();
  private logRefusal(remoteHex: string, why: string): void {
    const now = Date.now();
    if ((this.refusalsLogged.get(remoteHex) ?? 0) > now - 60_000) return;
    if (this.refusalsLogged.size > 1000) this.refusalsLogged.clear();
    this.refusalsLogged.set(remoteHex, now);
    this.log(`sync: refused a session from ${remoteHex.slice(0, 8)}: ${why}`);
  }

  private sessionEnded(ws: Workspace, p: NetPeerInfo, slot: SessionSlot, k: string, retry: boolean, delay = RESYNC_DELAY_MS): void {
    if (this.sessions.get(k) !== slot) return;
    this.sessions.delete(k);
    // Still connected (a transient failure): try again shortly.
    if (this.stopped || !retry) return;
    setTimeout(() => {
      if (!this.stopped && this.net.connectedPeers().some((c) => c.peerId === p.peerId)) this.ensureSession(ws, p);
    }, delay).unref();
  }

  private peersFor(remote: NetPeerInfo): PeerAddrs[] {
    const remoteHex = toHex(remote.publicKey);
    const out: PeerAddrs[] = [];
    for (const p of this.net.connectedPeers()) {
      const hex = toHex(p.publicKey);
      if (hex === remoteHex || !this.isMemberAnywhere(hex)) continue;
      const addrs = this.net.addrsOf(p.peerId);
      if (addrs.length > 0) out.push({ key: p.publicKey, addrs: addrs.slice(0, 8) });
    }
    return out;
  }

  private learnPeers(peers: PeerAddrs[]): void {
    const connected = new Set(this.net.connectedPeers().map((p) => toHex(p.publicKey)));
    for (const p of peers) {
      const hex = toHex(p.key);
      if (hex === this.keyHex || !this.isMemberAnywhere(hex)) continue;
      this.store.setPeerAddrs(p.key, p.addrs);
      if (!connected.has(hex)) this.dialAny(p.addrs);
    }
  }

  private dialAny(addrs: string[]): void {
    void (async () => {
      for (const a of addrs) {
        if (this.stopped) return;
        try { await this.net.dial(a); return; } catch { /* try the next address */ }
      }
    })();
  }

  // ---- presence (ephemeral channel) ----

  private presenceOf(wsHex: string): PresenceTable {
    let t = this.presence.get(wsHex);
    if (!t) { t = new PresenceTable(); this.presence.set(wsHex, t); }
    return t;
  }

  private sessionsOf(wsHex: string): SyncSession[] {
    const out: SyncSession[] = [];
    for (const [k, slot] of this.sessions) if (slot.session && k.startsWith(wsHex + '/')) out.push(slot.session);
    return out;
  }

  private announce(ws: Workspace): void {
    if (!ws.isMember(this.keyHex)) return;
    const state: PresenceState = { ...this.ownPresence.get(ws.idHex) };
    if (Date.now() - this.lastActivity > IDLE_AFTER_MS) state.idle = true;
    // Counters only grow, across restarts too: time-based.
    this.presenceCounter = Math.max(this.presenceCounter + 1, Date.now() * 16);
    const blob = sealPresence(ws, this.identity.signing, this.presenceCounter, state);
    if (!blob) return;
    for (const s of this.sessionsOf(ws.idHex)) s.sendPresence(blob);
  }

  private announceAll(): void {
    if (this.stopped) return;
    for (const ws of this.workspaces.values()) this.announce(ws);
  }

  private receivePresence(blob: Uint8Array, from: SyncSession): void {
    const ws = from.replica && this.workspaces.get(toHex(from.replica.id));
    if (!ws) return;
    const r = openPresence(ws, blob);
    if (typeof r === 'string' || r.author === this.keyHex) return;
    const table = this.presenceOf(ws.idHex);
    const before = table.get(r.author);
    if (!table.update(r)) return;
    // Relay news to our other members, so members not connected directly still see each other.
    for (const s of this.sessionsOf(ws.idHex)) if (s !== from) s.sendPresence(blob);
    const changed = !before || JSON.stringify(before.state) !== JSON.stringify(r.state);
    if (changed) this.emit({ type: 'presence', workspace: ws.idHex, member: r.author });
  }

  // ---- calls: signalling on the ephemeral channel (the media flows between browsers) ----

  /**
   * Sends a call signal (offer, answer, ICE candidate, bye) from our browser to a member's
   * (`to`: the member's key, or one of their devices'), on every session of the workspace
   * (workspace/call-signalling.ts).
   */
  sendCallSignal(idOrName: string, to: string, signal: unknown): void {
    this.callSignalling.send(this.ws(idOrName), to, signal);
  }

  /**
   * ICE servers for our browser's calls in a workspace: the TURN servers of its relays we are
   * connected to (credentials from each, turn-client.ts), and whether calls must go through them.
   */
  async callServers(idOrName: string): Promise<{ iceServers: { urls: string[]; username: string; credential: string }[]; relayOnly: boolean }> {
    const ws = this.ws(idOrName);
    const relays = this.net.connectedPeers().filter((p) => RelayLinks.isRelayOf(ws, toHex(p.publicKey)));
    this.turnClient ??= new TurnClient(this.net, this.log);
    const offers = await this.turnClient.offers(relays);
    return { iceServers: offers.map((o) => ({ urls: o.urls, username: o.username, credential: o.credential })), relayOnly: this.callsViaRelay };
  }

  /** No browser of ours is left to be in a call: our presence stops naming one, everywhere. */
  endCalls(): void {
    for (const [id, state] of this.ownPresence) {
      if (!state.call) continue;
      const next = { ...state };
      delete next.call;
      this.ownPresence.set(id, next);
      const ws = this.workspaces.get(id);
      if (ws) this.announce(ws); // not activity: the idle clock keeps running
      this.emit({ type: 'presence', workspace: id, member: this.keyHex });
    }
  }

  private receiveSignal(blob: Uint8Array, from: SyncSession): void {
    const ws = from.replica && this.workspaces.get(toHex(from.replica.id));
    if (ws) this.callSignalling.receive(ws, blob, from);
  }

  /**
   * Sets what we show others in a workspace (which tool, typing, where our cursor is in a
   * document) and counts as activity. Fields left out keep their value; `null` clears one.
   */
  setPresence(idOrName: string, state: { tool?: string | null; typing?: boolean; cursor?: { doc: string; data: string } | null; call?: string | null }): void {
    const ws = this.ws(idOrName);
    if (state.tool != null && (typeof state.tool !== 'string' || state.tool.length > 64)) throw new TrellisError('invalid', 'tool must be a string of at most 64 characters');
    if (state.typing !== undefined && typeof state.typing !== 'boolean') throw new TrellisError('invalid', 'typing must be true or false');
    if (state.cursor != null && (typeof state.cursor.doc !== 'string' || !/^[0-9a-f]{32}$/.test(state.cursor.doc) || typeof state.cursor.data !== 'string' || state.cursor.data.length > MAX_CURSOR_CHARS)) {
      throw new TrellisError('invalid', `cursor is {doc: 32 hex characters, data: at most ${MAX_CURSOR_CHARS} characters}`);
    }
    if (state.call != null && (typeof state.call !== 'string' || !CALL_ID.test(state.call))) throw new TrellisError('invalid', 'call must be 32 lowercase hex characters');
    this.lastActivity = Date.now();
    const next: PresenceState = { ...this.ownPresence.get(ws.idHex) };
    if (state.call !== undefined) { if (state.call) next.call = state.call; else delete next.call; }
    if (state.tool !== undefined) { if (state.tool) next.tool = state.tool; else delete next.tool; }
    if (state.typing !== undefined) { if (state.typing) next.typing = true; else delete next.typing; }
    if (state.cursor !== undefined) { if (state.cursor) next.cursor = state.cursor; else delete next.cursor; }
    const callChanged = this.ownPresence.get(ws.idHex)?.call !== next.call;
    this.ownPresence.set(ws.idHex, next);
    this.announce(ws);
    // Our other pages (and our own row in the members list) learn that we joined or left a call.
    if (callChanged) this.emit({ type: 'presence', workspace: ws.idHex, member: this.keyHex });
  }

  // ---- API ----

  status(): PeerStatus {
    return { name: this.identity.name, peerId: this.net.peerId, addrs: this.net.addrs(), connections: this.net.connectedPeers().length, workspaces: this.workspaces.size };
  }

  /** Resolves an id or a unique name to a workspace id; throws TrellisError. */
  resolveWorkspace(idOrName: string): string {
    if (typeof idOrName !== 'string' || idOrName.length === 0) throw new TrellisError('invalid', 'a workspace id or name is required');
    if (this.workspaces.has(idOrName)) return idOrName;
    const byName = [...this.workspaces.values()].filter((w) => w.name === idOrName);
    if (byName.length === 1) return byName[0].idHex;
    if (byName.length > 1) throw new TrellisError('invalid', `${byName.length} workspaces are named "${idOrName}": use the id (trellis workspace list)`);
    throw new TrellisError('not-found', `no workspace "${idOrName}" (see trellis workspace list)`);
  }

  private ws(idOrName: string): Workspace {
    return this.workspaces.get(this.resolveWorkspace(idOrName))!;
  }

  private info(ws: Workspace): WorkspaceInfo {
    return { id: ws.idHex, name: ws.name, role: ws.removedSelf ? 'removed' : ws.member(this.keyHex)?.role ?? 'guest', members: ws.state.members.size };
  }

  async createWorkspace(name: string): Promise<WorkspaceInfo> {
    const clean = validateWorkspaceName(name);
    const { workspace } = createWorkspace(this.ctx, clean, this.identity.name);
    this.register(workspace);
    this.emit({ type: 'workspace', workspace: workspace.idHex });
    return this.info(workspace);
  }

  listWorkspaces(): WorkspaceInfo[] {
    return [...this.workspaces.values()].map((w) => this.info(w));
  }

  async createInvite(idOrName: string, opts: InviteOptions): Promise<string> {
    const ws = this.ws(idOrName);
    const role = opts.role ?? 'participant';
    if (role !== 'device' && !isRole(role)) throw new TrellisError('invalid', `unknown role "${String(role)}": use manager, participant, guest or device`);
    const me = ws.member(this.keyHex);
    if (role === 'device') {
      if (!me || me.owner) throw new TrellisError('forbidden', 'only a member\'s first device can add devices');
    } else if (me?.role !== 'manager') throw new TrellisError('forbidden', 'only managers can invite members');
    const ttl = opts.expiresInMs ?? DEFAULT_INVITE_MS;
    if (!Number.isFinite(ttl) || ttl <= 0 || ttl > 365 * 24 * 3600_000) throw new TrellisError('invalid', 'the expiry must be between 1 ms and 365 days');
    const secret = randomBytes(32);
    const expires = Date.now() + ttl;
    this.store.putInvite({ id: inviteIdOf(secret), secret, workspace: ws.id, role, expires });
    // Relays' addresses follow ours: a joiner who cannot reach us queues its request there (src/relay/).
    const relayAddrs = [...ws.state.relays.values()].flatMap((r) => r.addrs);
    const addrs = [...this.net.addrs(), ...relayAddrs];
    return encodeInvite({ workspace: ws.id, inviter: this.identity.signing.publicKey, secret, role, expires, addrs, workspaceName: ws.name }, this.identity.signing.secretKey);
  }

  /** The invitations this device issued for a workspace, and what became of each (managers and device owners). */
  listInvites(idOrName: string): InviteInfo[] {
    const ws = this.ws(idOrName);
    const now = Date.now();
    return this.store.invitesOf(ws.id).map((row) => {
      const id = toHex(row.id);
      const usedBy = row.usedBy ? toHex(row.usedBy) : ws.state.invites.get(id);
      const revokedBy = ws.state.revokedInvites.get(id);
      const state = usedBy !== undefined ? 'used' : revokedBy !== undefined ? 'revoked' : row.expires < now ? 'expired' : 'open';
      const usedByName = usedBy !== undefined ? ws.member(usedBy)?.name : undefined;
      return {
        id, role: row.role, expires: row.expires, state,
        ...(usedBy !== undefined ? { usedBy } : {}), ...(usedByName ? { usedByName } : {}), ...(revokedBy !== undefined ? { revokedBy } : {}),
      };
    });
  }

  /**
   * Revokes an unused invitation (managers), named by its id or a unique prefix of at least 8 hex
   * digits of one this device issued, or by the full id of any invitation. Every member, relay and
   * manager then refuses joins with it (PROTOCOL.md §5, rule 2c).
   */
  async revokeInvite(idOrName: string, which: string): Promise<InviteInfo | { id: string; state: 'revoked' }> {
    const ws = this.ws(idOrName);
    const w = typeof which === 'string' ? which.trim().toLowerCase() : '';
    if (!/^[0-9a-f]{8,64}$/.test(w)) throw new TrellisError('invalid', 'give the invitation\'s id, or at least its first 8 hex digits (trellis invitations WS lists them)');
    const mine = this.store.invitesOf(ws.id).map((r) => toHex(r.id)).filter((id) => id.startsWith(w));
    if (mine.length > 1) throw new TrellisError('invalid', `"${w}" matches several invitations: give more of the id`);
    const id = mine[0] ?? (w.length === 64 ? w : undefined);
    if (id === undefined) throw new TrellisError('not-found', `no invitation "${w}" issued from this device (trellis invitations WS lists them; another manager's needs its full id)`);
    const usedBy = ws.state.invites.get(id);
    if (usedBy !== undefined) {
      throw new TrellisError('invalid', `this invitation was used already, by ${ws.member(usedBy)?.name ?? usedBy.slice(0, 8)}: to undo it, remove the member`);
    }
    if (ws.state.revokedInvites.has(id)) throw new TrellisError('invalid', 'this invitation is revoked already');
    if (ws.member(this.keyHex)?.role !== 'manager') throw new TrellisError('forbidden', 'only managers can revoke invitations');
    this.control(ws, { type: 'uninvite', invite: id });
    return this.listInvites(ws.idHex).find((i) => i.id === id) ?? { id, state: 'revoked' };
  }

  async join(code: string): Promise<WorkspaceInfo> {
    const { id } = await this.joinWithRelays(code, { wait: true });
    return this.info(this.workspaces.get(id)!);
  }

  /**
   * Joins directly with the inviter if it can be reached; otherwise queues the request at a
   * relay named in the code (src/relay/), and with `wait` waits until a manager (when one comes
   * online) accepted it and the history synced from the relay. Without `wait` it answers
   * `pending: true` at once; the join completes in the background, also after a restart.
   */
  async joinWithRelays(code: string, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<{ id: string; pending: boolean; relay?: string }> {
    const inv = decodeInvite(code);
    if (inv.expires < Date.now()) throw new TrellisError('forbidden', `this invitation expired on ${new Date(inv.expires).toISOString()}; ask for a new one`);
    const idHex = toHex(inv.workspace);
    if (this.workspaces.has(idHex)) throw new TrellisError('conflict', `you are already a member of "${this.workspaces.get(idHex)!.name}"`);
    if (toHex(inv.inviter) === this.keyHex) throw new TrellisError('invalid', 'this is your own invitation: give it to the person you invite');
    if (inv.addrs.length === 0) throw new TrellisError('invalid', 'the invitation carries no address to reach the inviter');
    const { inviter, relays } = splitInviteAddrs(inv);
    if (!this.relayJoins.has(idHex) && await this.joinDirect(inv, inviter)) return { id: idHex, pending: false };
    if (relays.length === 0) throw new TrellisError('unavailable', `cannot reach the inviter (${inv.addrs.length} address(es) tried): is their peer running?`);
    // The inviter is offline: queue the request at one of the workspace's relays.
    const ans = await this.relayJoins.queue(inv, code);
    if (opts.wait === false && !this.workspaces.has(idHex)) return { id: idHex, pending: true, relay: toHex(ans.relay.publicKey) };
    await this.relayJoins.wait(idHex, Date.now() + (opts.timeoutMs ?? JOIN_QUEUE_WAIT_MS));
    return { id: idHex, pending: false };
  }

  /** Joins that wait at a relay for the inviter, and how they stand. */
  pendingJoins(): PendingJoinInfo[] {
    return this.relayJoins.list();
  }

  /** A join queued at `relay` was accepted: hold the workspace and sync its history from the relay. */
  private async completeRelayJoin(inv: Invite, relay: NetPeerInfo): Promise<void> {
    const idHex = toHex(inv.workspace);
    let ws = this.workspaces.get(idHex);
    if (!ws) {
      this.store.addWorkspace(inv.workspace);
      ws = new Workspace(this.ctx, inv.workspace, new Map());
      this.register(ws);
    }
    const k = this.slotKey(ws, toHex(relay.publicKey));
    if (!this.sessions.has(k)) {
      const slot: SessionSlot = { mine: true };
      this.sessions.set(k, slot);
      await this.openSession(ws, relay, slot, k);
    }
    await this.waitSynced(k, Date.now() + JOIN_SYNC_TIMEOUT_MS);
    this.emit({ type: 'workspace', workspace: ws.idHex });
  }

  /** The direct join exchange with the inviter; false if no address of it answers. */
  private async joinDirect(inv: Invite, addrs: string[]): Promise<boolean> {
    const idHex = toHex(inv.workspace);
    let opened: Awaited<ReturnType<NetNode['openStream']>> | undefined;
    const errors: string[] = [];
    for (const a of addrs) {
      try { opened = await this.net.openStream(a, JOIN_PROTOCOL); break; } catch (err) { errors.push((err as Error).message); }
    }
    if (!opened) return false;
    if (compareBytes(opened.remote.publicKey, inv.inviter) !== 0) {
      opened.stream.abort();
      throw new TrellisError('invalid', 'the peer at the invitation\'s address is not the inviter');
    }
    try {
      await requestJoin(new FrameStream(opened.stream), inv, this.identity);
    } finally {
      void opened.stream.close().catch(() => {});
    }
    this.store.addWorkspace(inv.workspace);
    // Our keys arrive with the history: the `add` entry holds them, sealed to us.
    const ws = new Workspace(this.ctx, inv.workspace, new Map());
    this.inviters.set(idHex, toHex(inv.inviter));
    this.register(ws);
    // Sync the history from the inviter before answering: the caller expects a usable workspace.
    const k = this.slotKey(ws, toHex(inv.inviter));
    const slot: SessionSlot = { mine: true };
    this.sessions.set(k, slot);
    await this.openSession(ws, opened.remote, slot, k);
    await this.waitSynced(k, Date.now() + JOIN_SYNC_TIMEOUT_MS);
    this.emit({ type: 'workspace', workspace: ws.idHex });
    return true;
  }

  /**
   * Waits until the session in slot `k` has received everything the remote had. The session may
   * be replaced meanwhile (both sides opened one at once and the tie-break kept theirs): follow it.
   */
  private async waitSynced(k: string, deadline: number): Promise<void> {
    while (Date.now() < deadline && !this.stopped) {
      const session = this.sessions.get(k)?.session;
      if (session) {
        const left = deadline - Date.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), left); });
        try {
          if (await Promise.race([session.remoteSynced.then(() => 'ok' as const), timeout]) === 'ok') return;
        } catch { /* this session ended; a replacement may follow */ } finally { clearTimeout(timer); }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new TrellisError('unavailable', 'joined, but the history has not synced yet; it continues in the background when the inviter is reachable');
  }

  members(idOrName: string): MemberInfo[] {
    const ws = this.ws(idOrName);
    const online = new Set(this.net.connectedPeers().map((p) => toHex(p.publicKey)));
    online.add(this.keyHex);
    const all = ws.members();
    // A person is online when any of their devices is.
    const onlineOwners = new Set(all.filter((m) => m.owner && online.has(m.keyHex)).map((m) => m.owner!));
    const table = this.presenceOf(ws.idHex);
    const own = this.ownPresence.get(ws.idHex);
    return all.filter((m) => !m.owner).map((m) => {
      const self = m.keyHex === this.keyHex;
      const p = self ? undefined : table.get(m.keyHex) ?? all.filter((d) => d.owner === m.keyHex).map((d) => table.get(d.keyHex)).find(Boolean);
      const isOnline = online.has(m.keyHex) || onlineOwners.has(m.keyHex) || !!p;
      const state = self ? { ...own, ...(Date.now() - this.lastActivity > IDLE_AFTER_MS ? { idle: true } : {}) } : p?.state ?? {};
      const info: MemberInfo = { name: m.name, key: m.keyHex, role: m.role, online: isOnline, status: !isOnline ? 'offline' : state.idle ? 'idle' : 'online' };
      if (isOnline && state.tool) info.tool = state.tool;
      if (isOnline && state.typing) info.typing = true;
      if (isOnline && !self && p?.state.cursor) info.cursor = p.state.cursor;
      if (isOnline && state.call) info.call = state.call;
      return info;
    });
  }

  /** A member by key (hex, or a unique prefix of 8+ characters) or unique name. */
  private findMember(ws: Workspace, who: string): string {
    if (typeof who !== 'string' || who.trim() === '') throw new TrellisError('invalid', 'a member name or key is required');
    const all = ws.members();
    const byKey = all.filter((m) => m.keyHex === who || (who.length >= 8 && /^[0-9a-f]+$/.test(who) && m.keyHex.startsWith(who)));
    if (byKey.length === 1) return byKey[0].keyHex;
    const byName = all.filter((m) => m.name === who && !m.owner);
    if (byName.length === 1) return byName[0].keyHex;
    if (byName.length > 1 || byKey.length > 1) throw new TrellisError('invalid', `"${who}" matches several members: use the key (trellis members WS)`);
    throw new TrellisError('not-found', `no member "${who}" in this workspace (see trellis members)`);
  }

  private control(ws: Workspace, c: ControlPayload): void {
    try {
      ws.appendControl(c);
    } catch (err) {
      // A refused verdict is a permission matter; a full disk is not (the API says so itself).
      if (isDiskFull(err)) throw err;
      throw new TrellisError('forbidden', (err as Error).message.replace(/^a /, 'as a '));
    }
  }

  async setRole(idOrName: string, who: string, role: Role): Promise<MemberInfo> {
    const ws = this.ws(idOrName);
    if (!isRole(role)) throw new TrellisError('invalid', `unknown role "${String(role)}": use manager, participant or guest`);
    const key = this.findMember(ws, who);
    if (ws.member(key)?.owner) throw new TrellisError('invalid', 'a device has its owner\'s role');
    this.control(ws, { type: 'role', key, role });
    return this.members(ws.idHex).find((m) => m.key === key)!;
  }

  /** Removes a member (or a device) and starts a new key epoch sealed to everyone else. */
  async removeMember(idOrName: string, who: string): Promise<void> {
    const ws = this.ws(idOrName);
    const key = this.findMember(ws, who);
    if (key === this.keyHex) throw new TrellisError('invalid', 'to remove yourself, use `trellis leave`');
    const { epoch, keys } = newEpoch(ws, key);
    this.control(ws, { type: 'remove', key, epoch, keys });
  }

  /** Leaves a workspace: a signed removal of ourselves; a manager then rotates the key. */
  async leave(idOrName: string): Promise<void> {
    const ws = this.ws(idOrName);
    if (!ws.isMember(this.keyHex)) throw new TrellisError('invalid', 'you are not a member of this workspace');
    this.control(ws, { type: 'remove', key: this.keyHex });
  }

  /**
   * Deletes a workspace from this device: its entries, keys, invitations, documents, and the file
   * chunks no other workspace lists. Only once we are out of it (we left or were removed) and a
   * member or relay knows (knowsWeLeft), or when there was never anyone to tell; `force` deletes
   * a workspace we left before anyone knows (the others then keep us as a member until a manager
   * removes us). A member leaves first: deleting would not tell the others.
   */
  async deleteWorkspace(idOrName: string, opts: { force?: boolean } = {}): Promise<void> {
    const ws = this.ws(idOrName);
    const others = [...ws.state.members.keys()].filter((k) => k !== this.keyHex);
    const alone = others.length === 0 && ws.state.relays.size === 0;
    if (!ws.removedSelf && !alone) {
      throw new TrellisError('conflict', `you are a member of "${ws.name}": leave it first (trellis leave), then delete it from this device`);
    }
    const told = () => [...this.knowsWeLeft].some((k) => k.startsWith(`${ws.idHex}/`));
    // Just left, with members online: they are being told (it takes a session or two).
    const online = this.net.connectedPeers().some((p) => this.isSyncPartner(ws, toHex(p.publicKey)));
    for (let waited = 0; ws.removedSelf && !told() && !alone && !opts.force && online && waited < DELETE_WAIT_MS; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.workspaces.get(ws.idHex) !== ws) throw new TrellisError('not-found', 'that workspace was deleted meanwhile');
    if (ws.removedSelf && !told() && !alone && !opts.force) {
      throw new TrellisError('conflict', 'no member or relay has your leave yet (none was online since): keep this daemon running until one is, then delete it; '
        + 'or delete it now with --force, and the others keep you as a member until a manager removes you');
    }
    const id = ws.idHex;
    const rest = [...this.workspaces.keys()].filter((w) => w !== id);
    const chunks = this.files?.chunksOnlyOf(id, rest) ?? [];
    // The store first: if it fails, nothing is lost and the workspace is still here.
    this.store.removeWorkspace(ws.id);
    this.workspaces.delete(id);
    for (const [k, slot] of this.sessions) {
      if (!k.startsWith(`${id}/`)) continue;
      this.sessions.delete(k);
      slot.session?.close();
    }
    for (const k of this.knowsWeLeft) if (k.startsWith(`${id}/`)) this.knowsWeLeft.delete(k);
    this.presence.delete(id);
    this.ownPresence.delete(id);
    this.inviters.delete(id);
    this.files?.forgetWorkspace(id, chunks);
    this.chat.reset(id);
    this.docs.reset(id);
    this.log(`workspace ${id.slice(0, 8)}: deleted from this device`);
    this.emit({ type: 'workspace', workspace: id });
  }

  /**
   * Re-checks the whole stored history of a workspace from scratch (every signature, every hash
   * chain, every dependency) and gives its fingerprint: members who read the same fingerprint hold
   * the same history. Anyone in the workspace may ask (it reads only what this device holds).
   */
  verifyHistory(idOrName: string): HistoryVerification {
    const ws = this.ws(idOrName);
    const malformed: { author: string; seq: number; kind: string; detail: string }[] = [];
    const store = this.store;
    function* decoded(): Generator<Entry> {
      for (const bytes of store.allEntries(ws.id)) {
        try { yield decodeEntry(bytes); } catch (err) { malformed.push({ author: '', seq: 0, kind: 'malformed', detail: `a stored entry does not decode: ${(err as Error).message}` }); }
      }
    }
    const audit = auditHistory(ws.id, decoded(), entryCrypto);
    // Sync advertises the heads this device keeps beside the entries: they must be the entries' own.
    const computed = new Map(audit.heads.map((h) => [h.author, h]));
    for (const h of this.store.heads(ws.id)) {
      const author = toHex(h.author);
      const mine = computed.get(author);
      if (mine && mine.seq === h.seq && mine.hash === toHex(h.hash)) continue;
      if (audit.problems.some((p) => p.author === author)) continue; // that author's log is already reported
      malformed.push({ author, seq: h.seq, kind: 'stored-head', detail: 'the head this device keeps for this author is not the hash of its entries: the database is damaged' });
    }
    const name = (hex: string) => ws.member(hex)?.name ?? (ws.state.removed.has(hex) ? 'a former member' : 'not a member');
    return {
      workspace: ws.idHex, entries: audit.entries,
      authors: audit.heads.map((h) => ({ key: h.author, name: name(h.author), seq: h.seq, head: h.hash })),
      problems: [...malformed, ...audit.problems], forks: this.store.forks(ws.id).length, fingerprint: audit.fingerprint,
    };
  }

  /** Entries refused or without effect, for managers. */
  audit(idOrName: string): AuditItem[] {
    const ws = this.ws(idOrName);
    if (ws.member(this.keyHex)?.role !== 'manager') throw new TrellisError('forbidden', 'only managers can see the audit trail');
    return ws.audit().map((r) => ({ author: r.author, authorName: ws.member(r.author)?.name ?? '', seq: r.seq, reason: r.reason }));
  }

  permissions(idOrName: string): PermissionTable {
    return this.ws(idOrName).state.permissions;
  }

  async setPermissions(idOrName: string, table: PermissionTable): Promise<void> {
    const ws = this.ws(idOrName);
    const c = parseControl({ type: 'permissions', table });
    if (typeof c === 'string') throw new TrellisError('invalid', 'a permission table lists, for chat and doc, the roles that may write');
    this.control(ws, c);
  }

  // ---- relays (src/relay/) ----

  /** Attaches a relay (managers): a signed `relay` entry; every member's peer then syncs with it. */
  async addRelay(idOrName: string, address: string): Promise<RelayLinkInfo[]> {
    const ws = this.ws(idOrName);
    const relay = parseRelayAddress(address);
    if (relay.key === this.keyHex) throw new TrellisError('invalid', 'that address is this peer\'s own: give the relay\'s address');
    if (ws.isMember(relay.key)) throw new TrellisError('invalid', 'that address is a member\'s peer, not a relay');
    const known = ws.state.relays.get(relay.key);
    // Attaching it again keeps its other addresses (most recent first), up to the limit.
    const addrs = [relay.addr, ...(known?.addrs ?? []).filter((a) => a !== relay.addr)].slice(0, 8);
    this.control(ws, { type: 'relay', key: relay.key, addrs });
    return this.relayList(ws.idHex);
  }

  /** Detaches a relay (managers), named by its key, a unique key prefix or one of its addresses. */
  async removeRelay(idOrName: string, which: string): Promise<void> {
    const ws = this.ws(idOrName);
    if (typeof which !== 'string' || which.trim() === '') throw new TrellisError('invalid', 'a relay key or address is required');
    const w = which.trim();
    const matches = [...ws.state.relays.values()].filter((r) => r.keyHex === w || (w.length >= 8 && r.keyHex.startsWith(w)) || r.addrs.includes(w)
      || (w.startsWith('/') && (() => { try { return parseRelayAddress(w).key === r.keyHex; } catch { return false; } })()));
    if (matches.length === 0) throw new TrellisError('not-found', `no relay "${w}" is attached to this workspace (see trellis relay list)`);
    if (matches.length > 1) throw new TrellisError('invalid', `"${w}" matches several relays: use the key (trellis relay list)`);
    this.control(ws, { type: 'unrelay', key: matches[0].keyHex });
  }

  /** Relays attached to a workspace, whether we are connected to them, and their last refusal. */
  relayList(idOrName: string): RelayLinkInfo[] {
    return this.relayLinks.list(this.ws(idOrName));
  }

  /** Epoch keys held, for tests and diagnostics (never their bytes). */
  epochs(idOrName: string): { current: number; held: number[] } {
    const ws = this.ws(idOrName);
    return { current: ws.currentEpoch, held: ws.heldEpochs() };
  }

  async sendChat(idOrName: string, text: string): Promise<ChatMessage> {
    const ws = this.ws(idOrName);
    const why = refuseChatText(text);
    if (why) throw new TrellisError('invalid', why);
    this.mayWrite(ws, EntryKind.chat);
    const e = ws.append(EntryKind.chat, encodeChat(text));
    const id = `${this.keyHex}:${e.seq}`;
    return this.chat.log(ws.idHex).find((m) => m.id === id)!;
  }

  chatLog(idOrName: string): ChatMessage[] {
    return this.chat.log(this.ws(idOrName).idHex);
  }

  /** Writes Yjs updates to a shared document (16-byte id, hex), one entry each, in one transaction. */
  appendDocUpdates(idOrName: string, docIdHex: string, updates: Uint8Array[]): void {
    const ws = this.ws(idOrName);
    this.mayWrite(ws, EntryKind.docUpdate);
    const docId = fromHex(docIdHex);
    ws.appendMany(EntryKind.docUpdate, updates.map((u) => encodeDocUpdate(docId, u)));
  }

  doc(idOrName: string, docIdHex: string): Y.Doc {
    return this.docs.doc(this.ws(idOrName).idHex, checkDocId(docIdHex));
  }

  changeDoc(idOrName: string, docIdHex: string, change: (doc: Y.Doc) => void): void {
    const ws = this.ws(idOrName);
    this.mayWrite(ws, EntryKind.docUpdate);
    if (checkDocId(docIdHex) === REGISTRY_DOC_ID && this.role(ws.idHex) !== 'manager') throw new TrellisError('forbidden', 'only managers may add or remove tools');
    const doc = this.docs.doc(ws.idHex, docIdHex);
    const updates: Uint8Array[] = [];
    const capture = (u: Uint8Array, origin: unknown) => { if (origin === LOCAL_CHANGE) updates.push(u); };
    doc.on('update', capture);
    try { doc.transact(() => change(doc), LOCAL_CHANGE); } finally { doc.off('update', capture); }
    if (updates.length === 0) return;
    const payload = encodeDocUpdate(fromHex(docIdHex), updates.length === 1 ? updates[0] : Y.mergeUpdates(updates));
    try {
      // The live document already holds the change: if it cannot be written, put the document
      // back as the stored entries make it, so nothing shows that was never written.
      if (payload.byteLength > MAX_DOC_CHANGE_BYTES) throw new TrellisError('invalid', `the change is ${payload.byteLength} bytes; split it (at most ${MAX_DOC_CHANGE_BYTES} per change)`);
      ws.append(EntryKind.docUpdate, payload);
    } catch (err) {
      this.docs.replace(ws.idHex, docIdHex, this.docAt(ws.idHex, docIdHex, Number.MAX_SAFE_INTEGER));
      if (err instanceof TrellisError || isDiskFull(err)) throw err;
      throw new TrellisError('forbidden', (err as Error).message);
    }
  }

  role(idOrName: string): Role {
    const ws = this.ws(idOrName);
    const me = ws.member(this.keyHex);
    if (!me) throw new TrellisError('forbidden', 'you are not a member of this workspace (yet)');
    return me.role;
  }

  memberList(idOrName: string): DocMember[] {
    return this.ws(idOrName).members().map((m) => ({ name: m.name, key: m.keyHex, role: m.role }));
  }

  history(idOrName: string): HistoryItem[] {
    const ws = this.ws(idOrName);
    const out: HistoryItem[] = [];
    for (const { entry: e, plain } of ws.entries()) {
      const author = toHex(e.author);
      const item: HistoryItem = {
        id: `${author}:${e.seq}`, author, authorName: ws.member(author)?.name ?? '',
        kind: e.kind === EntryKind.control ? 'control' : e.kind === EntryKind.chat ? 'chat' : 'doc', time: e.time,
      };
      if (e.kind === EntryKind.docUpdate && plain) item.doc = docIdOf(plain);
      out.push(item);
    }
    return out;
  }

  docAt(idOrName: string, docIdHex: string, until: number): Y.Doc {
    const ws = this.ws(idOrName);
    checkDocId(docIdHex);
    const doc = new Y.Doc();
    for (const { entry: e, plain } of ws.entries()) {
      if (e.kind !== EntryKind.docUpdate || !plain || e.time > until || docIdOf(plain) !== docIdHex) continue;
      try { Y.applyUpdate(doc, plain.subarray(DOC_ID_BYTES)); } catch { /* unreadable update: skipped, as live */ }
    }
    return doc;
  }

  onDocChange(listener: (ws: string, docIdHex: string) => void): () => void {
    this.docListeners.add(listener);
    return () => { this.docListeners.delete(listener); };
  }

  /** Sync state of a workspace: members connected, and entries they hold that we do not yet. */
  syncStatus(idOrName: string): { peers: number; pending: number; syncing: boolean } {
    const ws = this.ws(idOrName);
    let peers = 0;
    let pending = 0;
    let syncing = false;
    for (const s of this.sessionsOf(ws.idHex)) {
      peers++;
      const p = s.pendingFromRemote();
      if (p === undefined) syncing = true;
      else pending += p;
    }
    return { peers, pending, syncing: syncing || pending > 0 };
  }

  /** Heads of a workspace: author hex → seq (for tests and progress). */
  heads(idOrName: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [hex, h] of this.ws(idOrName).vector()) out[hex] = h.seq;
    return out;
  }

  /** Entries rejected in a workspace since start (kept in memory; audit comes later). */
  rejections(idOrName: string) {
    return this.ws(idOrName).audit();
  }

  private mayWrite(ws: Workspace, kind: EntryKind): void {
    const why = ws.refuseOwnWrite(kind);
    if (why) throw new TrellisError('forbidden', why === 'author is not a member' ? 'you are not a member of this workspace (yet)' : why.replace(/^a /, 'as a '));
  }

  on(listener: (e: PeerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private emit(e: PeerEvent): void {
    for (const l of this.listeners) {
      try { l(e); } catch (err) { this.log(`event listener failed: ${(err as Error).message}`); }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.relayLinks?.stop();
    this.relayJoins?.stop();
    for (const slot of this.sessions.values()) slot.session?.close();
    this.sessions.clear();
    await this.files?.stop(); // files tool: cancels transfers before the network goes
    await this.net?.stop().catch((err: Error) => this.log(`net: stop failed: ${err.message}`));
    await this.preparer.close();
    this.store.close();
  }
}

function checkDocId(docIdHex: string): string {
  if (typeof docIdHex !== 'string' || !/^[0-9a-f]{32}$/.test(docIdHex)) throw new TrellisError('invalid', 'a document id is 32 lowercase hex characters');
  return docIdHex;
}

function validateWorkspaceName(name: unknown): string {
  if (typeof name !== 'string') throw new TrellisError('invalid', 'the workspace name must be a string');
  const n = name.trim();
  if (n.length === 0) throw new TrellisError('invalid', 'the workspace name must not be empty');
  if (n.length > 200) throw new TrellisError('invalid', 'the workspace name is longer than 200 characters');
  if (/[\u0000-\u001f\u007f]/.test(n)) throw new TrellisError('invalid', 'the workspace name must not contain control characters');
  if (/^[0-9a-f]{32}$/.test(n)) throw new TrellisError('invalid', 'the workspace name must not look like a workspace id');
  return n;
}
