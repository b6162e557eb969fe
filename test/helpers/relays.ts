// Runs real `trellis relay` daemons as child processes on 127.0.0.1 (see daemons.ts for peers).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveStorageKey, openLocal } from '../../src/crypto/local-seal.ts';
import { loadIdentity } from '../../src/store/identity-file.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { cli, cliJson, freePort, ROOT, type CliResult } from './daemons.ts';

const MAIN = join(ROOT, 'src/cli/main.ts');

export interface RelayStatus {
  name: string;
  peerId: string;
  addrs: string[];
  connections: number;
  workspaces: number;
  relay: true;
  bytesHeld: number;
  quota: number;
}

export class RelayDaemon {
  readonly home: string;
  /** Fixed, so a restarted relay keeps the address members were given. */
  readonly port: number;
  quota: string;
  /** More `trellis relay` options, e.g. ['--allow', KEY]. */
  extra: string[];
  proc: ChildProcess | undefined;
  peerId = '';
  api = '';
  output = '';

  private constructor(home: string, port: number, quota: string, extra: string[]) {
    this.home = home;
    this.port = port;
    this.quota = quota;
    this.extra = extra;
  }

  static async create(opts: { quota?: string; extra?: string[] } = {}): Promise<RelayDaemon> {
    return new RelayDaemon(mkdtempSync(join(tmpdir(), 'trellis-it-relay-')), await freePort(), opts.quota ?? '1GiB', opts.extra ?? []);
  }

  /** The address managers attach. */
  get addr(): string { return `/ip4/127.0.0.1/tcp/${this.port}/p2p/${this.peerId}`; }

  async start(): Promise<void> {
    const args = [MAIN, 'relay', '--home', this.home, '--listen', `/ip4/127.0.0.1/tcp/${this.port}`, '--api', '127.0.0.1:0', '--quota', this.quota, ...this.extra];
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_HOME: '' } });
    this.proc = proc;
    let listening = false;
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`relay did not start in 30 s:\n${this.output}`)), 30_000);
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => {
        this.output += d;
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const [k, v] = buf.slice(0, i).trim().split(/\s+/, 2);
          buf = buf.slice(i + 1);
          if (k === 'api') this.api = v;
          else if (k === 'peer') this.peerId = v;
          else if (k === 'listen') listening = true;
          if (this.api && this.peerId && listening) { clearTimeout(timer); ready(); }
        }
      });
      proc.stderr!.on('data', (d: Buffer) => { this.output += d; });
      proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`relay exited with ${code} during start:\n${this.output}`)); });
    });
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: no clean shutdown at all. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    this.proc = undefined;
    return new Promise((done) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), 15_000);
      p.once('exit', (code) => { clearTimeout(kill); done(code); });
      p.kill(sig);
    });
  }

  get running(): boolean { return !!this.proc && this.proc.exitCode === null; }

  cli(...args: string[]): Promise<CliResult> { return cli(this.home, args); }
  status(): Promise<RelayStatus> { return cliJson<RelayStatus>(this.home, ['status']); }
  /** What it serves: workspace ids, entries and bytes held. */
  served(): Promise<{ id: string; entries: number; bytesHeld: number; members: number }[]> { return apiCall(this.home, 'GET', '/api/relay/workspaces'); }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Calls a daemon's API directly (faster than one CLI process per call, for bulk writes). */
export async function apiCall<T = unknown>(home: string, method: string, path: string, body?: unknown): Promise<T> {
  const { url, token } = JSON.parse(readFileSync(join(home, 'api.json'), 'utf8')) as { url: string; token: string };
  const res = await fetch(url + path, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json() as T;
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A TCP proxy on 127.0.0.1 that records every byte in both directions (to grep the traffic). */
export async function recordingProxy(targetPort: number) {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    client.on('data', (d) => { chunks.push(d); upstream.write(d); });
    upstream.on('data', (d) => { chunks.push(d); client.write(d); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    bytes: () => Buffer.concat(chunks),
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

/** Every file under `dir` (SQLite files with their WAL included), as bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => ({ path: f, bytes: readFileSync(join(dir, f)) }));
}

/**
 * A TCP proxy on 127.0.0.1 that passes at most `bytesPerSecond` each way: it makes a transfer
 * last long enough for a test to act in the middle of it (e.g. kill the relay).
 */
export async function throttledProxy(targetPort: number, bytesPerSecond: number) {
  const sockets = new Set<Socket>();
  const TICK_MS = 20;
  const perTick = Math.max(1, Math.round(bytesPerSecond * TICK_MS / 1000));
  const pipe = (from: Socket, to: Socket) => {
    const queue: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      let budget = perTick;
      while (budget > 0 && queue.length > 0) {
        const c = queue[0];
        const n = Math.min(budget, c.length);
        to.write(c.subarray(0, n));
        if (n === c.length) queue.shift(); else queue[0] = c.subarray(n);
        budget -= n;
      }
      if (queue.length === 0) { clearInterval(timer); timer = undefined; from.resume(); }
    };
    from.on('data', (d: Buffer) => {
      queue.push(d);
      if (queue.length > 64) from.pause();
      timer ??= setInterval(drain, TICK_MS);
    });
    from.on('close', () => { clearInterval(timer); to.destroy(); });
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

/** The workspace keys a member holds (from its store, opened with its identity), for the greps. */
export function keysOf(home: string, wsHex: string): Uint8Array[] {
  const id = loadIdentity(home);
  const store = new SqliteStore(join(home, 'trellis.db'));
  try {
    const storageKey = deriveStorageKey(id.signing.secretKey);
    const ws = Buffer.from(wsHex, 'hex');
    return store.keys(ws).map((k) => openLocal(k.sealedKey, storageKey, ws)!).filter(Boolean);
  } finally {
    store.close();
  }
}
