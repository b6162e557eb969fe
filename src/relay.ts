// Relay: a headless peer that stores and forwards entries for the workspaces whose managers
// attached it, for members who are not online at the same time. It holds no workspace key and
// reads nothing: it checks signatures, hash chains, membership from the public control entries,
// and quotas (src/relay/). It also holds the sealed file chunks members push, and serves them to
// members (relay/relay-chunks.ts). Wires store + net + the relay service, like src/peer.ts does for peers.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from './core/errors.ts';
import { toHex } from './core/bytes.ts';
import { createNetNode, type NetNode } from './net/libp2p-node.ts';
import type { PeerEvent } from './peer-api.ts';
import { JoinQueue } from './relay/join-queue.ts';
import { RELAY_JOIN_PROTOCOL } from './relay/queued-join.ts';
import { RelayChunks } from './relay/relay-chunks.ts';
import { RelayDb } from './relay/relay-db.ts';
import { RelayService, type ServedWorkspace } from './relay/relay-service.ts';
import { loadIdentity, type Identity } from './store/identity-file.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { Store } from './store/store.ts';
import { SYNC_PROTOCOL, type PeerAddrs } from './sync/frames.ts';
import { CHUNKS_PROTOCOL, CHUNKS_PUSH_PROTOCOL } from './tools/files/chunk-frames.ts';
import { TURN_PROTOCOL } from './relay/turn-protocol.ts';
import { TurnService } from './relay/turn-service.ts';

/** Circuit relay slots; connections are relayed only to members of workspaces served here. */
const MAX_RESERVATIONS = 1024;

/** How often members connected here are told about each other again (peer exchange). */
const PEERS_REFRESH_MS = 2000;

/** Default bytes held per workspace. */
export const DEFAULT_RELAY_QUOTA = 1024 * 1024 * 1024;

export interface RelayOptions {
  /** Home directory: identity.json, trellis.db (entries), relay.db (queued joins, attachment marks), chunks/ (file chunks). */
  home: string;
  /** libp2p listen multiaddrs; default ['/ip4/127.0.0.1/tcp/0']. */
  listen?: string[];
  /** Bytes held per workspace; default 1 GiB. */
  quota?: number;
  /** Manager keys (hex) whose attachments this relay honours; default: any manager's. */
  allow?: string[];
  log?: (line: string) => void;
  /** Overrides for tests. */
  store?: Store;
  provisionalMs?: number;
  /** A TURN server for members' calls on this UDP port; `host`: where members reach it (default: the first IPv4 address listened on). */
  turn?: { port: number; host?: string };
}

/** `trellis status --json` on a relay: the peer fields plus what it serves. */
export interface RelayStatus {
  name: string;
  peerId: string;
  addrs: string[];
  connections: number;
  workspaces: number;
  relay: true;
  bytesHeld: number;
  quota: number;
  /** Where members reach this relay's TURN server for calls, when it runs one: "udp HOST:PORT". */
  turn?: string;
}

export class Relay {
  readonly identity: Identity;
  readonly keyHex: string;
  readonly quota: number;
  private readonly store: Store;
  private readonly db: RelayDb;
  private readonly log: (line: string) => void;
  private service!: RelayService;
  private chunks!: RelayChunks;
  private joins!: JoinQueue;
  private turn: TurnService | undefined;
  private net!: NetNode;
  private peersTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(identity: Identity, store: Store, db: RelayDb, quota: number, log: (line: string) => void) {
    this.identity = identity;
    this.keyHex = toHex(identity.signing.publicKey);
    this.store = store;
    this.db = db;
    this.quota = quota;
    this.log = log;
  }

  static async start(opts: RelayOptions): Promise<Relay> {
    // A relay drops workspaces it is not attached to: never let it open a peer's store.
    if (!opts.store && existsSync(join(opts.home, 'trellis.db')) && !existsSync(join(opts.home, 'relay.db'))) {
      throw new TrellisError('invalid', `${opts.home} is a peer's home, not a relay's: give the relay a home of its own (--home DIR)`);
    }
    const identity = loadIdentity(opts.home);
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    const quota = opts.quota ?? DEFAULT_RELAY_QUOTA;
    if (!Number.isSafeInteger(quota) || quota < 1) throw new Error('the relay quota must be a positive number of bytes');
    // relay.db first: its presence is what marks a relay's home (see above).
    const db = new RelayDb(join(opts.home, 'relay.db'));
    let store: Store;
    try { store = opts.store ?? new SqliteStore(join(opts.home, 'trellis.db')); } catch (err) { db.close(); throw err; }
    const relay = new Relay(identity, store, db, quota, log);
    try {
      // Chunks pushed by members, per served workspace, counted in its quota.
      relay.chunks = new RelayChunks({ dir: join(opts.home, 'chunks'), replica: (ws) => relay.service.replica(ws), log });
      relay.service = new RelayService({
        store, marks: db, selfKeyHex: relay.keyHex, quota, log, chunks: relay.chunks,
        ...(opts.allow ? { allow: opts.allow } : {}),
        ...(opts.provisionalMs ? { provisionalMs: opts.provisionalMs } : {}),
        localPeers: (ws, remoteHex) => relay.peersFor(ws, remoteHex),
      });
      relay.service.load();
      relay.chunks.load(relay.service.served().map((w) => w.id));
      relay.net = await createNetNode({
        signingSecretKey: identity.signing.secretKey,
        listen: opts.listen?.length ? opts.listen : ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: [],
        // A relay is reached by the addresses managers attached, not found on the LAN.
        mdns: false,
        log,
        // Circuit relay v2: members behind NATs reserve a slot here and are reached through it.
        relayServer: { maxReservations: MAX_RESERVATIONS, allowRelayTo: (key) => relay.service.isMemberAnywhere(toHex(key)) },
      });
    } catch (err) {
      relay.service?.close();
      store.close();
      db.close();
      throw err;
    }
    await relay.net.handle(SYNC_PROTOCOL, (stream, remote) => { relay.service.accept(stream, remote.publicKey); });
    await relay.net.handle(CHUNKS_PROTOCOL, (stream, remote) => relay.chunks.serve(stream, remote));
    await relay.net.handle(CHUNKS_PUSH_PROTOCOL, (stream, remote) => relay.chunks.acceptPush(stream, remote));
    if (opts.turn) {
      const host = opts.turn.host ?? relay.net.addrs().map((a) => /^\/ip4\/([0-9.]+)\//.exec(a)?.[1]).find((ip) => ip !== undefined && ip !== '0.0.0.0') ?? '127.0.0.1';
      relay.turn = new TurnService({ port: opts.turn.port, host, isMember: (key) => relay.service.isMemberAnywhere(key), log });
      try {
        await relay.turn.start();
      } catch (err) {
        relay.turn = undefined;
        await relay.stop();
        throw err;
      }
      await relay.net.handle(TURN_PROTOCOL, (stream, remote) => { void relay.turn!.serve(stream, toHex(remote.publicKey)); });
    }
    // Joins queued for offline inviters: kept in relay.db, passed on when a manager (or the inviter) connects.
    relay.joins = new JoinQueue({ db, service: relay.service, net: relay.net, log });
    await relay.net.handle(RELAY_JOIN_PROTOCOL, (stream, remote) => relay.joins.handle(stream, remote));
    relay.net.onPeerConnected((p) => { void relay.joins.deliverTo(p); });
    relay.joins.start();
    // Members' addresses change after they connect (relay slots): pass the news on.
    relay.peersTimer = setInterval(() => relay.service.refreshPeers(), PEERS_REFRESH_MS);
    relay.peersTimer.unref();
    const served = relay.service.served();
    log(`relay: serving ${served.length} workspace(s), ${relay.service.bytesHeld()} bytes held, quota ${quota} bytes per workspace`);
    return relay;
  }

  /** Other members of the workspace connected here, with their addresses (peer exchange). */
  private peersFor(wsHex: string, remoteHex: string): PeerAddrs[] {
    const replica = this.service.replica(wsHex);
    if (!replica) return [];
    const out: PeerAddrs[] = [];
    for (const p of this.net.connectedPeers()) {
      const hex = toHex(p.publicKey);
      if (hex === remoteHex || !replica.isMember(hex)) continue;
      // Through our circuit if it holds a slot here (behind a NAT), and whatever it announced.
      const addrs = [...this.net.circuitAddrsOf(p.peerId), ...this.net.addrsOf(p.peerId)].slice(0, 8);
      if (addrs.length > 0) out.push({ key: p.publicKey, addrs });
    }
    return out;
  }

  status(): RelayStatus {
    return {
      name: this.identity.name, peerId: this.net.peerId, addrs: this.net.addrs(), connections: this.net.connectedPeers().length,
      workspaces: this.service.served().length, relay: true, bytesHeld: this.service.bytesHeld(), quota: this.quota,
      ...(this.turn ? { turn: this.turn.where } : {}),
    };
  }

  /** The workspaces served: ids and sizes only (a relay knows no names). */
  workspaces(): ServedWorkspace[] {
    return this.service.served();
  }

  /** A relay emits no user events; the API's event socket still wants a subscription. */
  on(_listener: (e: PeerEvent) => void): () => void {
    return () => {};
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.peersTimer);
    this.joins?.stop();
    this.turn?.stop();
    this.service?.close();
    await this.net?.stop().catch((err: Error) => this.log(`net: stop failed: ${err.message}`));
    this.store.close();
    this.db.close();
  }
}
