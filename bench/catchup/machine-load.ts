// How busy the machine was with other work: on a shared 2-core machine a test suite running
// alongside can double a timing, so every measured span records the CPU time that was not ours.
import { readFileSync } from 'node:fs';

/** Linux counts /proc/stat in USER_HZ ticks, 100 per second on every common configuration. */
const TICK_MS = 10;

/** CPU time (all cores) spent busy since boot, in ms; undefined off Linux. */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3] - f[4]) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * Waits until other work keeps less than `maxCores` cores busy (sampled over 2 s windows; our own
 * idle writer counts as nothing), for at most `maxMs`. True if it got quiet.
 */
export async function waitForQuiet(maxCores: number, maxMs: number, say: (l: string) => void): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  let told = false;
  for (;;) {
    const b0 = machineBusyMs();
    if (b0 === undefined) return true;
    await new Promise((r) => setTimeout(r, 2000));
    const cores = (machineBusyMs()! - b0) / 2000;
    if (cores < maxCores) return true;
    if (Date.now() >= deadline) { say(`the machine is still busy (${cores.toFixed(2)} cores); measuring anyway`); return false; }
    if (!told) { say(`waiting for the machine to settle (other work keeps ${cores.toFixed(2)} cores busy)…`); told = true; }
  }
}
