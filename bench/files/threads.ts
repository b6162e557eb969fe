// CPU time per thread of this process (Linux /proc), to see where a transfer's CPU goes: the main
// thread (JavaScript, synchronous I/O), libuv's pool (asynchronous file I/O), V8's helper threads
// (garbage collection). Empty where /proc is not available.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export type ThreadTimes = Map<string, number>;

export function threadTimes(): ThreadTimes {
  const out: ThreadTimes = new Map();
  let tids: string[];
  try { tids = readdirSync('/proc/self/task'); } catch { return out; }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      // Threads of one kind (the pool's workers) are summed under their name.
      const key = tid === String(process.pid) ? 'main' : name;
      out.set(key, (out.get(key) ?? 0) + ms);
    } catch { /* the thread ended */ }
  }
  return out;
}

/** Per-thread CPU since `before`, largest first, e.g. "main 2.1 s, libuv-worker 0.4 s". */
export function threadDelta(before: ThreadTimes): string {
  const now = threadTimes();
  return [...now].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v >= 50)
    .sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ');
}
