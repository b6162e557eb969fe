// Network namespaces for tests that need a real network between processes: hosts with addresses
// of their own, a router between them, and firewall rules (nftables) on the router. Needs root,
// iproute2 (/usr/sbin/ip, /usr/bin/ss) and nftables (/usr/sbin/nft).
//
// Every host is a namespace joined to one router namespace by a veth pair, on a /24 of its own:
// host i is 7.0.i.2, the router 7.0.i.1. Those are public-range addresses on purpose (libp2p
// treats private ones differently, e.g. DCUtR ignores them); they exist only inside these
// namespaces, which have no link to anything else, so no packet can leave them.
//
// Names carry the creating process's id: destroy() removes everything (call it from t.after), an
// exit hook does so if the process ends first, and the next lab removes the leftovers of labs whose
// process died (killed with SIGKILL) along with the processes still running in them.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

export const IP = '/usr/sbin/ip';
export const NFT = '/usr/sbin/nft';
/** iproute2's socket statistics. */
export const SS = '/usr/bin/ss';
const PREFIX = 'trellis-test-';

/** Why network namespace tests cannot run here, or undefined if they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!existsSync(IP) || !existsSync(SS)) return `${IP} or ${SS} (Debian package iproute2) is missing`;
  if (!existsSync(NFT)) return `${NFT} is missing (Debian package nftables)`;
  return undefined;
}

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a command to completion; never throws for a non-zero exit. */
export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

function listNamespaces(): string[] {
  try {
    return execFileSync(IP, ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
  } catch {
    return [];
  }
}

/** Kills the processes still inside a namespace (by their ids) and deletes it. Synchronous: also runs from an exit hook. */
function removeNamespace(ns: string): void {
  try {
    const pids = execFileSync(IP, ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0);
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } }
  } catch { /* no such namespace */ }
  try { execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone already */ }
}

/** Namespaces of earlier labs whose process is gone (a test killed hard). */
function removeLeftovers(): void {
  for (const ns of listNamespaces()) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(ns);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) removeNamespace(ns);
  }
}

let labCount = 0;

export interface Host {
  /** Namespace name. */
  ns: string;
  /** The host's address, 7.0.i.2. */
  ip: string;
  /** Its interface's name on the router (for firewall rules). */
  routerIf: string;
}

export class NetnsLab {
  /** The router namespace: it forwards between the hosts and holds the firewall (table inet lab). */
  readonly router: string;
  private readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly procs = new Set<ChildProcess>();
  private hostCount = 0;
  private readonly onExit = (): void => { this.destroySync(); };

  private constructor() {
    this.prefix = `${PREFIX}${process.pid}-${++labCount}`;
    this.router = `${this.prefix}-router`;
  }

  /** A router namespace with forwarding on and no host yet. */
  static async create(): Promise<NetnsLab> {
    removeLeftovers();
    const lab = new NetnsLab();
    process.once('exit', lab.onExit);
    try {
      await lab.addNamespace(lab.router);
      await must(IP, ['netns', 'exec', lab.router, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private async addNamespace(ns: string): Promise<void> {
    await must(IP, ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await must(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** A host namespace on a subnet of its own behind the router. */
  async addHost(name: string): Promise<Host> {
    const i = ++this.hostCount;
    const ns = `${this.prefix}-${name}`;
    const routerIf = `h${i}`;
    await this.addNamespace(ns);
    await must(IP, ['-n', this.router, 'link', 'add', routerIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await must(IP, ['-n', this.router, 'addr', 'add', `7.0.${i}.1/24`, 'dev', routerIf]);
    await must(IP, ['-n', this.router, 'link', 'set', routerIf, 'up']);
    await must(IP, ['-n', ns, 'addr', 'add', `7.0.${i}.2/24`, 'dev', 'eth0']);
    await must(IP, ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await must(IP, ['-n', ns, 'route', 'add', 'default', 'via', `7.0.${i}.1`]);
    return { ns, ip: `7.0.${i}.2`, routerIf };
  }

  /** Loads an nftables ruleset (text, as for `nft -f`) in a namespace. */
  async nft(ns: string, ruleset: string): Promise<void> {
    const r = await new Promise<RunResult>((done) => {
      const p = execFile(IP, ['netns', 'exec', ns, NFT, '-f', '-'], (err, stdout, stderr) => done({ code: err ? 1 : 0, stdout, stderr }));
      p.stdin!.end(ruleset);
    });
    if (r.code !== 0) throw new Error(`nft -f in ${ns} failed: ${r.stderr.trim()}\n${ruleset}`);
  }

  /** Runs a command inside a namespace to completion. */
  exec(ns: string, cmd: string, args: string[], timeoutMs?: number): Promise<RunResult> {
    return run(IP, ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  /**
   * Starts a long-running command inside a namespace. `ip netns exec` replaces itself with the
   * command, so the child's pid is the command's. destroy() kills it if it still runs.
   */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const proc = spawn(IP, ['netns', 'exec', ns, cmd, ...args], opts);
    this.procs.add(proc);
    proc.once('exit', () => this.procs.delete(proc));
    return proc;
  }

  /** Kills what still runs in the namespaces and deletes them. */
  async destroy(): Promise<void> {
    const exits = [...this.procs].filter((p) => p.exitCode === null && p.signalCode === null)
      .map((p) => new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); }));
    await Promise.all(exits);
    this.destroySync();
  }

  private destroySync(): void {
    process.removeListener('exit', this.onExit);
    for (const p of this.procs) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
    for (const ns of this.namespaces.splice(0).reverse()) removeNamespace(ns);
  }
}

/** The namespaces of labs created by this process that still exist (for tests of the cleanup). */
export function namespacesOfThisProcess(): string[] {
  return listNamespaces().filter((ns) => ns.startsWith(`${PREFIX}${process.pid}-`));
}
