// A counting TCP relay on loopback, placed between the receiver and the writer so that "bytes on
// the wire" is what really crossed the socket: Noise framing, Yamux headers, identify, pings and
// the sync frames, both directions.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface ProxyCounters {
  /** Receiver → writer. */
  up: number;
  /** Writer → receiver. */
  down: number;
  connections: number;
  open: number;
}

export class CountingProxy {
  readonly counters: ProxyCounters = { up: 0, down: 0, connections: 0, open: 0 };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly target: { host: string; port: number };
  /** Writer → receiver bandwidth limit in bytes/s (0 = none), to try a slower link. */
  private readonly rate: number;

  private constructor(server: Server, target: { host: string; port: number }, rate: number) {
    this.server = server;
    this.target = target;
    this.rate = rate;
  }

  static async start(target: { host: string; port: number }, rateBytesPerS = 0): Promise<CountingProxy> {
    const server = createServer();
    const proxy = new CountingProxy(server, target, rateBytesPerS);
    server.on('connection', (s) => proxy.relay(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('proxy is not listening');
    return a.port;
  }

  reset(): void {
    this.counters.up = 0;
    this.counters.down = 0;
    this.counters.connections = 0;
  }

  private relay(client: Socket): void {
    const upstream = createConnection(this.target);
    this.counters.connections++;
    this.counters.open++;
    this.sockets.add(client);
    this.sockets.add(upstream);
    // Latency matters more than syscalls here: the relay must not delay small handshake messages.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (b: Buffer) => { this.counters.up += b.byteLength; });
    // pipe() carries back-pressure both ways, so the relay never buffers more than a socket's worth.
    client.pipe(upstream);
    if (this.rate > 0) this.throttle(upstream, client);
    else {
      upstream.on('data', (b: Buffer) => { this.counters.down += b.byteLength; });
      upstream.pipe(client);
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.counters.open--;
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  /** Like pipe(), but pauses the source whenever it is ahead of the byte rate. */
  private throttle(from: Socket, to: Socket): void {
    const start = Date.now();
    let sent = 0;
    const resume = () => { if (!from.destroyed) from.resume(); };
    from.on('data', (b: Buffer) => {
      this.counters.down += b.byteLength;
      sent += b.byteLength;
      const drained = to.write(b);
      const wait = start + (sent / this.rate) * 1000 - Date.now();
      if (wait <= 0 && drained) return;
      from.pause();
      const after = () => (drained ? resume() : to.once('drain', resume));
      if (wait > 0) setTimeout(after, wait); else after();
    });
    from.on('end', () => to.end());
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
