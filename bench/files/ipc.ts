// The benchmark's process protocol, both sides: a child gets its parameters as one JSON argument
// and talks to the parent in IPC messages; the parent waits for typed messages with a timeout and
// kills every child when it exits, whatever way it ends.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Message { type: string; [k: string]: unknown }

// ---- parent side ----

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

let parentHooks = false;
function installParentHooks(): void {
  if (parentHooks) return;
  parentHooks = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { killAll(); process.exit(130); });
}

export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  private readonly inbox: Message[] = [];
  private exit: string | undefined;
  private wake: (() => void) | undefined;

  constructor(name: string, script: string, params: unknown, execArgv: string[] = []) {
    installParentHooks();
    this.name = name;
    this.proc = fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(params)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(this.proc);
    this.proc.on('message', (m: Message) => { this.inbox.push(m); this.wake?.(); });
    this.proc.on('exit', (code, signal) => { live.delete(this.proc); this.exit = `code ${code}, signal ${signal}`; this.wake?.(); });
  }

  send(m: Message): void { this.proc.send(m); }

  /** The child's next message of this type; rejects on its error report, its exit or the timeout. */
  async next<T = Message>(type: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const err = this.inbox.find((m) => m.type === 'error');
      if (err) throw new Error(`${this.name} failed: ${String(err.message)}`);
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as unknown as T;
      if (this.exit) throw new Error(`${this.name} exited (${this.exit}) before sending "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
      });
    }
  }

  /** Asks the child to stop and waits; kills it after the timeout. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.exit) return;
    this.send({ type: 'stop' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await new Promise<void>((resolve) => { if (this.exit) resolve(); else this.proc.once('exit', () => resolve()); });
    clearTimeout(t);
  }
}

// ---- child side ----

const inbox: Message[] = [];
let waiter: (() => void) | undefined;

export function childInit(): void {
  if (!process.send) throw new Error('this file runs as a child of bench/files/run.ts');
  process.on('message', (m: Message) => { inbox.push(m); waiter?.(); });
  process.on('disconnect', () => process.exit(3));
}

export function params<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export function send(m: Message): Promise<void> {
  return new Promise((resolve, reject) => process.send!(m, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve())));
}

/** The parent's next command. */
export async function command(): Promise<Message> {
  for (;;) {
    const m = inbox.shift();
    if (m) return m;
    await new Promise<void>((resolve) => { waiter = () => { waiter = undefined; resolve(); }; });
  }
}

/** Runs a child's command loop; a failure is reported to the parent instead of dying silently. */
export function serve(handle: (m: Message) => Promise<boolean | void>): void {
  childInit();
  void (async () => {
    for (;;) {
      const m = await command();
      if (m.type === 'stop') { await handle(m); process.exit(0); }
      try {
        await handle(m);
      } catch (err) {
        await send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) }).catch(() => {});
        process.exit(1);
      }
    }
  })();
}
