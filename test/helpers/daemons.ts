// Runs real `trellis` daemons as child processes on 127.0.0.1 and drives them through the CLI.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs one CLI command to completion. */
export function cli(home: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [MAIN, ...args, '--home', home], { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, TRELLIS_HOME: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Runs a CLI command that must succeed and print JSON; returns the parsed value. */
export async function cliJson<T = unknown>(home: string, args: string[], timeoutMs?: number): Promise<T> {
  const r = await cli(home, [...args, '--json'], timeoutMs);
  if (r.code !== 0) throw new Error(`trellis ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * A free TCP port below the kernel's ephemeral range (32768+ here), chosen at random. Ports the
 * kernel hands out can be taken by any outgoing connection while a daemon is down (even by a
 * peer redialling it: a connection to a port nobody listens on can connect to itself), and the
 * restarted daemon then cannot listen on its address again.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((done) => {
      const s = createServer();
      s.once('error', () => done(false));
      s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
    });
    if (free) return port;
    if (attempt > 100) throw new Error('no free port between 20000 and 32000');
  }
}

export interface DaemonOptions {
  name: string;
  home?: string;
  /** TCP port for libp2p; fixed so a restarted daemon keeps its address. */
  port?: number;
  bootstrap?: string[];
  mdns?: boolean;
}

export class Daemon {
  readonly name: string;
  readonly home: string;
  /** Mutable: a test may restart a daemon on another port. */
  port: number;
  bootstrap: string[];
  readonly mdns: boolean;
  proc: ChildProcess | undefined;
  peerId = '';
  api = '';
  addrs: string[] = [];
  output = '';

  private constructor(opts: Required<Omit<DaemonOptions, 'bootstrap'>> & { bootstrap: string[] }) {
    this.name = opts.name;
    this.home = opts.home;
    this.port = opts.port;
    this.bootstrap = opts.bootstrap;
    this.mdns = opts.mdns;
  }

  static async create(opts: DaemonOptions): Promise<Daemon> {
    return new Daemon({
      name: opts.name,
      home: opts.home ?? mkdtempSync(join(tmpdir(), `trellis-it-${opts.name}-`)),
      port: opts.port ?? await freePort(),
      bootstrap: opts.bootstrap ?? [],
      mdns: opts.mdns ?? false,
    });
  }

  /** The address others bootstrap to. */
  get addr(): string { return `/ip4/127.0.0.1/tcp/${this.port}/p2p/${this.peerId}`; }

  async start(): Promise<void> {
    const args = [MAIN, 'start', '--home', this.home, '--name', this.name, '--listen', `/ip4/127.0.0.1/tcp/${this.port}`, '--api', '127.0.0.1:0'];
    if (!this.mdns) args.push('--no-mdns');
    for (const b of this.bootstrap) args.push('--bootstrap', b);
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_HOME: '' } });
    this.proc = proc;
    this.addrs = [];
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.name}: daemon did not start in 30 s:\n${this.output}`)), 30_000);
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => {
        this.output += d;
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          const [k, v] = line.split(/\s+/, 2);
          if (k === 'api') this.api = v;
          else if (k === 'peer') this.peerId = v;
          else if (k === 'listen') this.addrs.push(v);
          if (this.api && this.peerId && this.addrs.length > 0) { clearTimeout(timer); ready(); }
        }
      });
      proc.stderr!.on('data', (d: Buffer) => { this.output += d; });
      proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`${this.name}: daemon exited with ${code} during start:\n${this.output}`)); });
    });
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    this.proc = undefined;
    return new Promise((done) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), 15_000);
      p.once('exit', (code) => { clearTimeout(kill); done(code); });
      p.kill('SIGTERM');
    });
  }

  get running(): boolean { return !!this.proc && this.proc.exitCode === null; }

  cli(...args: string[]): Promise<CliResult> { return cli(this.home, args); }
  json<T = unknown>(...args: string[]): Promise<T> { return cliJson<T>(this.home, args, 180_000); }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}

export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (err) { lastErr = err; }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 500)} ${lastErr ? String(lastErr) : ''}`);
}

/** Runs `fn` over items with at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

/**
 * Alice's and Bob's daemons, started, Bob bootstrapped to Alice, both in Alice's workspace "Team"
 * (Bob as `role`); destroyed after the test.
 */
export async function aliceAndBobInTeam(t: { after: (fn: () => Promise<void>) => void }, role = 'participant'): Promise<{ a: Daemon; b: Daemon; id: string }> {
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  await b.start();
  t.after(async () => { await Promise.all([a.destroy(), b.destroy()]); });
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  await b.json('join', (await a.json<{ code: string }>('invite', 'Team', '--role', role)).code);
  return { a, b, id };
}
