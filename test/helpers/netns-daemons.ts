// Real `trellis start` and `trellis relay` daemons inside network namespaces (see netns.ts),
// driven by the CLI run in the same namespace (their API listens on that namespace's 127.0.0.1).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './daemons.ts';
import type { NetnsLab, RunResult } from './netns.ts';

const MAIN = join(ROOT, 'src/cli/main.ts');

export interface NetnsDaemonOptions {
  lab: NetnsLab;
  ns: string;
  /** 'start' for a peer, 'relay' for a relay. */
  kind: 'start' | 'relay';
  name: string;
  /** libp2p listen multiaddrs. */
  listen: string[];
  /** Environment additions, e.g. { DEBUG: 'libp2p:dcutr*' } for libp2p's debug log on stderr. */
  env?: Record<string, string>;
}

export class NetnsDaemon {
  readonly home: string;
  readonly opts: NetnsDaemonOptions;
  proc: ChildProcess | undefined;
  peerId = '';
  addrs: string[] = [];
  /** stdout and stderr, interleaved as they came. */
  output = '';

  constructor(opts: NetnsDaemonOptions) {
    this.opts = opts;
    this.home = mkdtempSync(join(tmpdir(), `trellis-netns-${opts.name}-`));
  }

  async start(): Promise<void> {
    const { lab, ns, kind, name, listen } = this.opts;
    const args = [MAIN, kind, '--home', this.home, '--api', '127.0.0.1:0', ...listen.flatMap((l) => ['--listen', l])];
    if (kind === 'start') args.push('--name', name, '--no-mdns');
    const proc = lab.spawn(ns, process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_HOME: '', ...this.opts.env } });
    this.proc = proc;
    this.addrs = [];
    let api = '';
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${name}: daemon did not start in 30 s:\n${this.output}`)), 30_000);
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => {
        this.output += d;
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const [k, v] = buf.slice(0, i).trim().split(/\s+/, 2);
          buf = buf.slice(i + 1);
          if (k === 'api') api = v;
          else if (k === 'peer') this.peerId = v;
          else if (k === 'listen') this.addrs.push(v);
          if (api && this.peerId && this.addrs.length > 0) { clearTimeout(timer); ready(); }
        }
      });
      proc.stderr!.on('data', (d: Buffer) => { this.output += d; });
      proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`${name}: daemon exited with ${code} during start:\n${this.output}`)); });
    });
  }

  /** Runs one CLI command in the daemon's namespace. */
  cli(...args: string[]): Promise<RunResult> {
    return this.opts.lab.exec(this.opts.ns, process.execPath, [MAIN, ...args, '--home', this.home], 60_000);
  }

  /** Runs a CLI command that must succeed and print JSON; returns the parsed value. */
  async json<T = unknown>(...args: string[]): Promise<T> {
    const r = await this.cli(...args, '--json');
    if (r.code !== 0) throw new Error(`${this.opts.name}: trellis ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as T;
  }

  /** SIGTERM and wait (SIGKILL after 15 s); returns the exit code. */
  async stop(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    this.proc = undefined;
    return new Promise((done) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), 15_000);
      p.once('exit', (code) => { clearTimeout(kill); done(code); });
      p.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}
