// A real `trellis start` child process for browser tests: started with or without --name (without
// it, the daemon waits for onboarding in the web UI), parsing the lines start.ts prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from '../helpers/daemons.ts';

const MAIN = join(ROOT, 'src/cli/main.ts');

export class WebDaemon {
  readonly label: string;
  readonly home: string;
  proc: ChildProcess | undefined;
  api = '';
  /** The start link: `http://127.0.0.1:PORT/#token=…`. */
  web = '';
  token = '';
  peerId = '';
  /** stdout and stderr as they came (the logs the token must never reach are on stderr). */
  stdout = '';
  stderr = '';
  readonly #peerListeners: (() => void)[] = [];

  private constructor(label: string, home: string) {
    this.label = label;
    this.home = home;
  }

  /** `extra`: more `trellis start` options (e.g. --calls-via-relay). */
  static async start(label: string, opts: { name?: string; extra?: string[] } = {}): Promise<WebDaemon> {
    const d = new WebDaemon(label, mkdtempSync(join(tmpdir(), `trellis-web-${label}-`)));
    const port = await freePort();
    const args = [MAIN, 'start', '--home', d.home, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api', '127.0.0.1:0', '--no-mdns'];
    if (opts.name !== undefined) args.push('--name', opts.name);
    args.push(...opts.extra ?? []);
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_HOME: '' } });
    d.proc = proc;
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${label}: no start lines in 30 s:\n${d.stdout}\n${d.stderr}`)), 30_000);
      let buf = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        d.stdout += chunk;
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const [k, v] = buf.slice(0, i).trim().split(/\s+/, 2);
          buf = buf.slice(i + 1);
          if (k === 'api') d.api = v;
          if (k === 'web') { d.web = v; d.token = /#token=([0-9a-f]+)/.exec(v)?.[1] ?? ''; }
          if (k === 'peer') { d.peerId = v; for (const l of d.#peerListeners.splice(0)) l(); }
          // Without a name the peer starts later; the API and the start link are enough to begin.
          if (d.api && d.web && (opts.name === undefined || d.peerId)) { clearTimeout(timer); ready(); }
        }
      });
      proc.stderr!.on('data', (chunk: Buffer) => { d.stderr += chunk; });
      proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`${label}: exited with ${code} during start:\n${d.stderr}`)); });
    });
    return d;
  }

  /** Resolves once the peer runs (after onboarding). */
  peerStarted(timeoutMs = 30_000): Promise<void> {
    if (this.peerId) return Promise.resolve();
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.label}: the peer did not start`)), timeoutMs);
      this.#peerListeners.push(() => { clearTimeout(timer); ok(); });
    });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null) {
      await new Promise<void>((done) => {
        const kill = setTimeout(() => p.kill('SIGKILL'), 10_000);
        p.once('exit', () => { clearTimeout(kill); done(); });
        p.kill('SIGTERM');
      });
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
