// The libp2p node of a Trellis peer: TCP + Noise + Yamux, identify and ping, bootstrap re-dialling
// and optional mDNS discovery. It knows libp2p, not workspaces: callers get ByteStreams and peers
// identified by their Ed25519 signing keys.
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { noiseCrypto } from './noise-crypto.ts';
import { yamux } from '@chainsafe/libp2p-yamux';
import { TrellisError } from '../core/errors.ts';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { mdns } from '@libp2p/mdns';
// NAT traversal (relays, src/relay/): circuit relay v2 server on relays, client transport + DCUtR on peers.
import { circuitRelayServer, circuitRelayTransport, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { dcutr } from '@libp2p/dcutr';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Connection, PeerDiscovery, PeerId, PeerInfo, PeerUpdate, Stream } from '@libp2p/interface';
import type { ByteStream } from '../core/byte-stream.ts';
import { toByteStream } from './stream-adapter.ts';
import { libp2pKeyOfSigningKey, publicKeyOf } from './peer-keys.ts';

export { peerIdOfPublicKey, publicKeyOfPeerId } from './peer-keys.ts';

export interface NetOptions {
  /** Ed25519 secret key in libsodium format: 64 bytes (32-byte seed followed by the 32-byte public key). The libp2p peer id is derived from this key, so a remote's peer id tells us its Ed25519 public key. */
  signingSecretKey: Uint8Array;
  /** Multiaddrs to listen on, e.g. ['/ip4/127.0.0.1/tcp/0']. */
  listen: string[];
  /** Multiaddrs with /p2p/<id>: dialled at start, and re-dialled with backoff while not connected, until stop(). */
  bootstrap: string[];
  /** Discover peers with mDNS and dial them. */
  mdns: boolean;
  /**
   * mDNS service name. Trellis peers use their own so they do not dial every libp2p node on the LAN;
   * tests pass a unique one so that concurrently running tests do not find each other.
   */
  mdnsServiceTag?: string;
  /** One-line log messages; never keys or data. */
  log: (line: string) => void;
  /**
   * Run a circuit relay v2 server (Trellis relays): peers that cannot be dialled reserve a slot
   * and are reached through it. `allowRelayTo` decides to whom (by signing key) connections may
   * be relayed; anyone may reserve (up to `maxReservations`), since a peer's first reservation
   * comes before the relay can know it is a member.
   */
  relayServer?: { maxReservations: number; allowRelayTo: (publicKey: Uint8Array) => boolean };
  /**
   * Dial circuit relay addresses, and with '/p2p-circuit' among `listen` reserve a slot on the
   * relays we connect to; DCUtR then tries to replace a relayed connection by a direct one.
   */
  relayClient?: boolean;
}

export interface NetPeerInfo {
  peerId: string;
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export type StreamHandler = (stream: ByteStream, remote: NetPeerInfo) => void;

export interface NetNode {
  readonly peerId: string;
  /** Full multiaddrs including /p2p/<peerId>. */
  addrs(): string[];
  connectedPeers(): NetPeerInfo[];
  handle(protocol: string, handler: StreamHandler): Promise<void>;
  /** Opens a stream on an existing or new connection. `target` is a peer id string or a multiaddr string. Rejects with a clear Error if unreachable within timeoutMs (default 10 s). */
  openStream(target: string, protocol: string, timeoutMs?: number): Promise<{ stream: ByteStream; remote: NetPeerInfo }>;
  dial(addr: string): Promise<NetPeerInfo>;
  /** Known multiaddrs of a peer (from the peer store), so the caller can share them with others. */
  addrsOf(peerId: string): string[];
  /** Remote addresses of the open connections to a peer (a relayed one contains /p2p-circuit). */
  connectionAddrs(peerId: string): string[];
  /**
   * With `relayServer`: the addresses through which a peer holding a slot here is reached
   * (our addresses + /p2p-circuit/p2p/ID); empty if it holds none.
   */
  circuitAddrsOf(peerId: string): string[];
  /** Fired once per peer when its first connection opens. */
  onPeerConnected(cb: (p: NetPeerInfo) => void): void;
  /** Fired when a peer's last connection closes. */
  onPeerDisconnected(cb: (p: NetPeerInfo) => void): void;
  stop(): Promise<void>;
}

export const DEFAULT_MDNS_SERVICE_TAG = '_trellis._udp.local';
const DEFAULT_TIMEOUT_MS = 10_000;
// Enough for a handful of concurrent sync sessions per peer, small enough that a misbehaving peer
// cannot make us hold thousands of streams.
const MAX_STREAMS_PER_PROTOCOL = 64;
// Yamux's default maximum receive window. A paused stream can still receive this much, so its
// paused buffer limit must be larger or libp2p resets the stream under back-pressure.
const MAX_STREAM_WINDOW = 16 * 1024 * 1024;
const PAUSED_BUFFER_LIMIT = 2 * MAX_STREAM_WINDOW;
// libp2p 3 records a per-stream inactivity timeout (120 s by default) without enforcing it yet; set
// it far out so that a quiet but long-lived sync session survives if a later version enforces it.
// Finite on purpose: setTimeout treats Infinity as 1 ms. Dead connections are still found by the
// connection monitor's pings and yamux keep-alives.
const STREAM_INACTIVITY_TIMEOUT_MS = 24 * 60 * 60 * 1000;
const REDIAL_MIN_MS = 2_000;
const REDIAL_MAX_MS = 10_000;
const REDIAL_AFTER_DISCONNECT_MS = 1_000;

// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
type Services = {
  identify: unknown;
  ping: unknown;
  mdns?: PeerDiscovery;
  relay?: CircuitRelayService;
  dcutr?: unknown;
  listenAddrs: object;
};

interface BootstrapTarget {
  addr: Multiaddr;
  peerId: string;
  failures: number;
  timer?: NodeJS.Timeout;
  dialing: boolean;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function peerInfoOf(id: PeerId): NetPeerInfo {
  return { peerId: id.toString(), publicKey: publicKeyOf(id) };
}

// The gater keeps other key types out, but an event handler must never throw into libp2p.
function ed25519Info(id: PeerId): NetPeerInfo | undefined {
  return id.type === 'Ed25519' ? peerInfoOf(id) : undefined;
}

/**
 * libp2p 3 advertises a public IP listen address (in identify, in relay reservations, to DCUtR,
 * in getMultiaddrs) only once AutoNAT has confirmed it; private and loopback addresses need no
 * confirmation. Trellis runs no AutoNAT (it needs several peers to dial back, and it would deny a
 * firewalled address, which DCUtR still needs to hole punch), so a peer or relay listening on a
 * public address advertised none. This service confirms the IP addresses we listen on.
 */
interface ListenAddrComponents {
  events: EventTarget;
  addressManager: { confirmObservedAddr(addr: Multiaddr, options?: { type?: 'transport' }): void };
  transportManager: { getAddrs(): Multiaddr[] };
}
function confirmListenAddrs(components: ListenAddrComponents): object {
  components.events.addEventListener('transport:listening', () => {
    for (const addr of components.transportManager.getAddrs()) {
      const first = addr.getComponents()[0]?.name;
      if (first === 'ip4' || first === 'ip6') components.addressManager.confirmObservedAddr(addr, { type: 'transport' });
    }
  });
  return {};
}

function withPeerId(addr: Multiaddr, peerId: string): string {
  return addr.getComponents().some((c) => c.name === 'p2p') ? addr.toString() : `${addr.toString()}/p2p/${peerId}`;
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

function parseBootstrap(texts: string[], selfId: string): BootstrapTarget[] {
  const targets: BootstrapTarget[] = [];
  for (const text of texts) {
    let addr: Multiaddr;
    try {
      addr = multiaddr(text);
    } catch (err) {
      throw new Error(`bootstrap address ${JSON.stringify(text)} is not a multiaddr: ${errorText(err)}`, { cause: err });
    }
    const peerId = addr.getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (peerId == null) throw new Error(`bootstrap address ${text} lacks /p2p/<peer id>`);
    if (peerId !== selfId) targets.push({ addr, peerId, failures: 0, dialing: false });
  }
  return targets;
}

export async function createNetNode(opts: NetOptions): Promise<NetNode> {
  const privateKey = await libp2pKeyOfSigningKey(opts.signingSecretKey);
  const log = opts.log;
  // Parsed before the node exists, so a bad address fails fast and leaves nothing to clean up.
  const targets = parseBootstrap(opts.bootstrap, peerIdFromPrivateKey(privateKey).toString());

  const node = await createLibp2p<Services>({
    privateKey,
    start: false,
    addresses: { listen: opts.listen },
    transports: [tcp(), ...(opts.relayClient ? [circuitRelayTransport()] : [])],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux({
      streamOptions: {
        maxStreamWindowSize: MAX_STREAM_WINDOW,
        maxReadBufferLength: PAUSED_BUFFER_LIMIT,
        inactivityTimeout: STREAM_INACTIVITY_TIMEOUT_MS,
      },
    })],
    services: {
      identify: identify(),
      ping: ping(),
      // As a service rather than a peerDiscovery entry so that we see every answer: libp2p's own
      // 'peer:discovery' fires only for peers new to the peer store, never on re-discovery.
      ...(opts.mdns ? { mdns: mdns({ serviceTag: opts.mdnsServiceTag ?? DEFAULT_MDNS_SERVICE_TAG }) } : {}),
      // Relayed connections through a Trellis relay carry sync sessions: no data or time limit.
      ...(opts.relayServer ? { relay: circuitRelayServer({ reservations: { maxReservations: opts.relayServer.maxReservations, applyDefaultLimit: false } }) } : {}),
      ...(opts.relayClient ? { dcutr: dcutr() } : {}),
      listenAddrs: confirmListenAddrs,
    },
    // A peer talks to a handful of members and relays, not to a swarm.
    connectionManager: {
      maxConnections: 100,
      dialTimeout: DEFAULT_TIMEOUT_MS,
    },
    // The monitor's pings are what finds a dead connection (our own keep-alive writes stop the TCP
    // idle timeout from ever firing). Its 5 s minimum timeout can be too short for a ping queued
    // behind a bulk transfer on a slow uplink, so allow longer before it aborts the connection.
    connectionMonitor: {
      pingTimeout: { minTimeout: 10_000, maxTimeout: 60_000 },
    },
    // Only Ed25519 peers can be Trellis peers: refusing the rest early means every connected peer
    // id yields a signing key.
    connectionGater: {
      denyDialPeer: async (peerId: PeerId) => peerId.type !== 'Ed25519',
      denyInboundEncryptedConnection: async (peerId: PeerId) => peerId.type !== 'Ed25519',
      denyOutboundEncryptedConnection: async (peerId: PeerId) => peerId.type !== 'Ed25519',
      denyInboundRelayReservation: async (peerId: PeerId) => peerId.type !== 'Ed25519',
      denyOutboundRelayedConnection: async (_source: PeerId, destination: PeerId) =>
        destination.type !== 'Ed25519' || !(opts.relayServer?.allowRelayTo(publicKeyOf(destination)) ?? false),
    },
  });

  const selfId = node.peerId.toString();
  let stopped = false;
  const connectedCbs: Array<(p: NetPeerInfo) => void> = [];
  const disconnectedCbs: Array<(p: NetPeerInfo) => void> = [];
  // The peer store is asynchronous; addrsOf must answer synchronously, so mirror its addresses.
  const knownAddrs = new Map<string, string[]>();

  const fire = (cbs: Array<(p: NetPeerInfo) => void>, p: NetPeerInfo, what: string): void => {
    for (const cb of cbs) {
      try {
        cb(p);
      } catch (err) {
        log(`net: ${what} callback threw: ${errorText(err)}`);
      }
    }
  };

  const isConnected = (peerId: string): boolean =>
    node.getConnections().some((c) => c.remotePeer.toString() === peerId && c.status === 'open');

  // ---- bootstrap: keep re-dialling until connected, and again after each disconnect ----
  const schedule = (t: BootstrapTarget, delayMs: number): void => {
    if (stopped) return;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => { void redial(t); }, delayMs);
  };

  const redial = async (t: BootstrapTarget): Promise<void> => {
    t.timer = undefined;
    if (stopped || t.dialing || isConnected(t.peerId)) return;
    t.dialing = true;
    try {
      await node.dial(t.addr, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) });
      t.failures = 0;
    } catch (err) {
      if (stopped) return;
      t.failures++;
      const delay = jitter(Math.min(REDIAL_MIN_MS * 2 ** (t.failures - 1), REDIAL_MAX_MS));
      // A bootstrap peer can be down for days: say so at first, then about every five minutes.
      if (t.failures <= 3 || t.failures % 30 === 0) {
        log(`net: bootstrap dial ${t.peerId} failed (attempt ${t.failures}): ${errorText(err)}; retrying in ${delay} ms`);
      }
      schedule(t, delay);
    } finally {
      t.dialing = false;
    }
  };

  // ---- mDNS: dial whoever answers, unless already connected ----
  const mdnsDialing = new Set<string>();
  const onDiscovered = (evt: CustomEvent<PeerInfo>): void => {
    const info = evt.detail;
    const peerId = info.id.toString();
    if (stopped || peerId === selfId || info.id.type !== 'Ed25519') return;
    if (mdnsDialing.has(peerId) || isConnected(peerId) || info.multiaddrs.length === 0) return;
    mdnsDialing.add(peerId);
    log(`net: mdns discovered ${peerId}`);
    const addrs = info.multiaddrs.map((a) => multiaddr(withPeerId(a, peerId)));
    node.dial(addrs, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) })
      .catch((err: unknown) => { if (!stopped) log(`net: dial to mdns peer ${peerId} failed: ${errorText(err)}`); })
      .finally(() => { mdnsDialing.delete(peerId); });
  };

  // ---- libp2p events ----
  node.addEventListener('peer:connect', (evt) => {
    const info = ed25519Info(evt.detail);
    if (info == null) return;
    log(`net: connected to ${info.peerId}`);
    fire(connectedCbs, info, 'peer connected');
  });
  node.addEventListener('peer:disconnect', (evt) => {
    const info = ed25519Info(evt.detail);
    if (info == null) return;
    log(`net: disconnected from ${info.peerId}`);
    for (const t of targets) {
      if (t.peerId === info.peerId) { t.failures = 0; schedule(t, jitter(REDIAL_AFTER_DISCONNECT_MS)); }
    }
    fire(disconnectedCbs, info, 'peer disconnected');
  });
  // One line per connection, relayed (through a relay's circuit) or direct: the log shows when
  // DCUtR replaces a relayed connection by a direct one.
  const describe = (c: Connection): string =>
    `${c.remoteAddr.toString().includes('/p2p-circuit') ? 'relayed' : 'direct'} ${c.direction} connection to ${c.remotePeer.toString()}${c.limits ? ' (limited)' : ''} via ${c.remoteAddr.toString()}`;
  node.addEventListener('connection:open', (evt) => { log(`net: opened ${describe(evt.detail)}`); });
  node.addEventListener('connection:close', (evt) => { if (!stopped) log(`net: closed ${describe(evt.detail)}`); });
  node.addEventListener('peer:update', (evt: CustomEvent<PeerUpdate>) => {
    const { peer } = evt.detail;
    const id = peer.id.toString();
    knownAddrs.set(id, peer.addresses.map((a) => withPeerId(a.multiaddr, id)));
  });
  node.services.mdns?.addEventListener('peer', onDiscovered);

  try {
    await node.start();
  } catch (err) {
    // libp2p's message is long and technical; a port in use is a user's everyday mistake.
    const busy = /EADDRINUSE[^\n]*?(\d+\.\d+\.\d+\.\d+:\d+|\[[^\]]+\]:\d+)/.exec((err as Error).message ?? '');
    if (busy) throw new TrellisError('invalid', `cannot listen on ${busy[1]}: the address is in use by another program (choose another with --listen)`);
    throw err;
  }
  log(`net: ${selfId} listening on ${node.getMultiaddrs().map((a) => a.toString()).join(' ') || '(no addresses)'}`);
  for (const t of targets) schedule(t, 0);

  const openConnection = async (target: string, signal: AbortSignal): Promise<Connection> => {
    if (target.startsWith('/')) return node.dial(multiaddr(target), { signal });
    return node.dial(peerIdFromString(target), { signal });
  };

  const describeFailure = (what: string, timeoutMs: number, signal: AbortSignal, err: unknown): Error => {
    const why = signal.aborted ? `no answer within ${timeoutMs} ms` : errorText(err);
    return new Error(`net: ${what}: ${why}`, { cause: err });
  };

  return {
    peerId: selfId,

    addrs: () => node.getMultiaddrs().map((a) => withPeerId(a, selfId)),

    connectedPeers: () => node.getPeers().flatMap((id) => ed25519Info(id) ?? []),

    async handle(protocol: string, handler: StreamHandler): Promise<void> {
      await node.handle(protocol, (stream: Stream, connection: Connection) => {
        let remote: NetPeerInfo;
        try {
          remote = peerInfoOf(connection.remotePeer);
        } catch (err) {
          stream.abort(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        try {
          handler(toByteStream(stream, { pausedBufferLimit: PAUSED_BUFFER_LIMIT }), remote);
        } catch (err) {
          log(`net: handler for ${protocol} threw: ${errorText(err)}`);
          stream.abort(err instanceof Error ? err : new Error(String(err)));
        }
      }, { maxInboundStreams: MAX_STREAMS_PER_PROTOCOL, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL });
    },

    async openStream(target: string, protocol: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
      if (stopped) throw new Error('net: node is stopped');
      const signal = AbortSignal.timeout(timeoutMs);
      let connection: Connection;
      let stream: Stream;
      try {
        connection = await openConnection(target, signal);
        stream = await connection.newStream(protocol, { signal, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL });
      } catch (err) {
        throw describeFailure(`cannot open ${protocol} stream to ${target}`, timeoutMs, signal, err);
      }
      return {
        stream: toByteStream(stream, { pausedBufferLimit: PAUSED_BUFFER_LIMIT }),
        remote: peerInfoOf(connection.remotePeer),
      };
    },

    async dial(addr: string): Promise<NetPeerInfo> {
      if (stopped) throw new Error('net: node is stopped');
      const signal = AbortSignal.timeout(DEFAULT_TIMEOUT_MS);
      try {
        const connection = await openConnection(addr, signal);
        return peerInfoOf(connection.remotePeer);
      } catch (err) {
        throw describeFailure(`cannot dial ${addr}`, DEFAULT_TIMEOUT_MS, signal, err);
      }
    },

    addrsOf: (peerId: string) => [...(knownAddrs.get(peerId) ?? [])],

    circuitAddrsOf: (peerId: string) => {
      const reservations = node.services.relay?.reservations;
      let id: PeerId;
      try { id = peerIdFromString(peerId); } catch { return []; }
      if (reservations === undefined || !reservations.has(id)) return [];
      return node.getMultiaddrs().filter((a) => !a.toString().includes('/p2p-circuit')).map((a) => `${withPeerId(a, selfId)}/p2p-circuit/p2p/${peerId}`);
    },

    connectionAddrs: (peerId: string) => node.getConnections()
      .filter((c) => c.remotePeer.toString() === peerId && c.status === 'open').map((c) => c.remoteAddr.toString()),

    onPeerConnected(cb) { connectedCbs.push(cb); },

    onPeerDisconnected(cb) { disconnectedCbs.push(cb); },

    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      for (const t of targets) clearTimeout(t.timer);
      node.services.mdns?.removeEventListener('peer', onDiscovered);
      await node.stop();
      log(`net: ${selfId} stopped`);
    },
  };
}
