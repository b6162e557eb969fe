// The child side of the benchmark's process protocol: parameters come as one JSON argument,
// results and commands travel as IPC messages. A child never outlives its parent.
import { appendFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface Message {
  type: string;
  [k: string]: unknown;
}

const inbox: Message[] = [];
let waiter: (() => void) | undefined;

if (!process.send) throw new Error('this file runs as a child of bench/catchup/run.ts');
process.on('message', (m: Message) => { inbox.push(m); waiter?.(); });
// The parent died or closed the channel: nobody will ever read our results.
process.on('disconnect', () => process.exit(3));

export function params<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('missing parameters');
  return JSON.parse(raw) as T;
}

/** Resolves once the parent has the message, so that exiting right after loses nothing. */
export function send(m: Message): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(m, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** Waits for the parent's next command of one of these types. */
export async function command(types: string | string[], timeoutMs: number): Promise<Message> {
  const wanted = typeof types === 'string' ? [types] : types;
  const type = wanted.join('" or "');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = inbox.findIndex((m) => wanted.includes(m.type));
    if (i >= 0) return inbox.splice(i, 1)[0];
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no "${type}" command from the parent within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      waiter = () => { clearTimeout(t); waiter = undefined; resolve(); };
    });
  }
}

/** Peer log lines go to a file: the console stays readable and nothing is lost on failure. */
export function fileLog(path: string): (line: string) => void {
  return (line) => appendFileSync(path, `${new Date().toISOString()} ${line}\n`);
}

/** Peak resident set size of this process so far, in MiB (resourceUsage reports KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs a child's body: reports a failure to the parent instead of dying silently. */
export function main(body: () => Promise<void>): void {
  // Exit explicitly: a stopped libp2p node may leave a timer behind that would keep us alive.
  body().then(() => process.exit(0), async (err: unknown) => {
    const message = err instanceof Error ? err.stack ?? err.message : String(err);
    await send({ type: 'error', message }).catch(() => {});
    process.exit(1);
  });
}

let profiler: Session | undefined;

/**
 * Starts V8's sampling profiler in this process. Through the inspector rather than --cpu-prof, so
 * that a profile covers exactly the span of interest, not the process's start-up and imports.
 */
export async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
  await profiler.post('Profiler.start');
}

/** Stops the profiler and writes a .cpuprofile (the format profile.ts reads). */
export async function stopProfile(path: string): Promise<void> {
  if (!profiler) throw new Error('the profiler was not started');
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(path, JSON.stringify(profile));
  profiler.disconnect();
  profiler = undefined;
}
