// The relay's TURN server (node-turn, UDP), for members' calls: media that cannot go directly
// between two members' browsers goes through here, still encrypted end to end by WebRTC (DTLS-SRTP):
// the relay forwards packets it cannot read. Credentials are minted per request, only for members
// of a workspace this relay serves (turn-protocol.ts), and expire after CREDENTIAL_TTL_S.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { TrellisError } from '../core/errors.ts';
import Turn from 'node-turn';
import type { ByteStream } from '../core/byte-stream.ts';
import { encodeTurnMessage, type TurnOffer } from './turn-protocol.ts';

/** How long a set of credentials works (new allocations; one in use runs to its own lifetime). */
export const CREDENTIAL_TTL_S = 3600;
/** Credentials alive at once; beyond, the oldest go first. */
const MAX_LIVE = 10_000;
/** Credentials one member holds at once; beyond, that member's oldest go (so one member asking in a loop evicts only its own). */
export const MAX_PER_MEMBER = 8;

export interface TurnServiceOptions {
  /** UDP port to listen on. */
  port: number;
  /** Address members reach the TURN server at (it listens there too). */
  host: string;
  /** Whether `keyHex` is a member of some workspace this relay serves. */
  isMember: (keyHex: string) => boolean;
  log: (line: string) => void;
}

export class TurnService {
  private readonly opts: TurnServiceOptions;
  private readonly server: Turn;
  /** username → when it expires (ms) and whose it is, oldest first. */
  private readonly live = new Map<string, { until: number; member: string }>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(opts: TurnServiceOptions) {
    this.opts = opts;
    this.server = new Turn({
      listeningPort: opts.port, listeningIps: [opts.host], relayIps: [opts.host],
      authMech: 'long-term', credentials: {}, realm: 'trellis', debugLevel: 'FATAL',
      maxAllocateLifetime: CREDENTIAL_TTL_S,
      // Only what stops the server is worth a line (node-turn reports a failed bind this way).
      debug: (level, message) => { if (level === 'FATAL') opts.log(`relay: TURN: ${String(message).split('\n')[0]}`); },
    });
  }

  /** Starts the server; rejects with a sentence if its UDP port is taken (node-turn would only log it). */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const probe = createSocket(isIPv6(this.opts.host) ? 'udp6' : 'udp4');
      probe.once('error', (err: NodeJS.ErrnoException) => {
        probe.close();
        reject(new TrellisError('invalid', err.code === 'EADDRINUSE'
          ? `the TURN port udp ${this.opts.host}:${this.opts.port} is in use: choose another --turn-port`
          : `cannot listen for TURN on udp ${this.opts.host}:${this.opts.port}: ${err.code ?? err.message}`));
      });
      probe.bind({ address: this.opts.host, port: this.opts.port, exclusive: true }, () => probe.close(() => resolve()));
    });
    this.server.start();
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    this.opts.log(`relay: TURN for calls on udp ${this.opts.host}:${this.opts.port}`);
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.server.stop();
  }

  /** Where members reach it: "udp HOST:PORT". */
  get where(): string { return `udp ${this.opts.host}:${this.opts.port}`; }

  /** Credentials alive now, per member (tests, diagnostics). */
  liveCount(memberHex?: string): number {
    return memberHex === undefined ? this.live.size : [...this.live.values()].filter((v) => v.member === memberHex).length;
  }

  /** Fresh credentials for member `memberHex`. */
  issue(memberHex: string): TurnOffer {
    const username = `${Math.floor(Date.now() / 1000) + CREDENTIAL_TTL_S}:${randomBytes(9).toString('base64url')}`;
    const credential = randomBytes(18).toString('base64url');
    const mine = [...this.live].filter(([, v]) => v.member === memberHex).map(([u]) => u);
    for (const u of mine.slice(0, Math.max(0, mine.length - MAX_PER_MEMBER + 1))) this.forget(u);
    while (this.live.size >= MAX_LIVE) { const [oldest] = this.live.keys(); this.forget(oldest); }
    this.server.addUser(username, credential);
    this.live.set(username, { until: Date.now() + CREDENTIAL_TTL_S * 1000, member: memberHex });
    return { urls: [`turn:${this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host}:${this.opts.port}?transport=udp`], username, credential, ttl: CREDENTIAL_TTL_S };
  }

  /** Answers a /trellis/turn/1.0.0 stream. */
  async serve(stream: ByteStream, remoteHex: string): Promise<void> {
    const answer = this.opts.isMember(remoteHex)
      ? encodeTurnMessage(this.issue(remoteHex))
      : encodeTurnMessage({ error: { code: 'forbidden', message: 'TURN is for members of the workspaces this relay serves' } });
    try {
      await stream.write(answer);
      await stream.close();
    } catch {
      stream.abort();
    }
  }

  private sweep(now = Date.now()): void {
    for (const [u, v] of this.live) if (v.until <= now) this.forget(u);
  }

  private forget(username: string | undefined): void {
    if (username === undefined) return;
    this.live.delete(username);
    this.server.removeUser(username);
  }
}
