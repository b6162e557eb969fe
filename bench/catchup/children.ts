// The parent side of the process protocol: starts a child script with the current Node (the
// project's pinned Node 24, since run.ts itself runs on it), waits for its messages with a
// timeout, and makes sure no child survives the benchmark, whatever way it ends.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Message } from './child-io.ts';

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  private readonly inbox: Message[] = [];
  private exit: { code: number | null; signal: string | null } | undefined;
  private wake: (() => void) | undefined;

  constructor(name: string, script: string, params: unknown, execArgv: string[] = []) {
    this.name = name;
    const path = fileURLToPath(new URL(script, import.meta.url));
    this.proc = fork(path, [JSON.stringify(params)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(this.proc);
    this.proc.on('message', (m: Message) => { this.inbox.push(m); this.wake?.(); });
    this.proc.on('exit', (code, signal) => {
      live.delete(this.proc);
      this.exit = { code, signal };
      this.wake?.();
    });
  }

  send(m: Message): void {
    this.proc.send(m);
  }

  /** The child's next message of this type; rejects on its error report, its exit, or the timeout. */
  async next<T = Message>(type: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const err = this.inbox.find((m) => m.type === 'error');
      if (err) throw new Error(`${this.name} failed: ${String(err.message)}`);
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as unknown as T;
      if (this.exit) throw new Error(`${this.name} exited (code ${this.exit.code}, signal ${this.exit.signal}) before sending "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
      });
    }
  }

  /** Waits for the child to exit; kills it if it takes longer than the timeout. */
  async exited(timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exit && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
      });
    }
    if (!this.exit) {
      this.proc.kill('SIGKILL');
      throw new Error(`${this.name} did not exit within ${Math.round(timeoutMs / 1000)} s; killed`);
    }
    return this.exit.code;
  }
}
