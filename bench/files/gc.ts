// Garbage collections of a benchmark process (perf_hooks): how many major collections ran during a
// transfer and how long they paused its main thread. The marking behind them runs on V8's helper
// threads, whose CPU shows as V8Worker in the CPU-by-thread lines. Measured here (Node 24, heaps of
// about 20 MB): during a transfer a major collection starts about every 100 ms, in Trellis and raw
// processes alike, so their cost grows with the transfer's duration rather than with its bytes.
import { constants, PerformanceObserver } from 'node:perf_hooks';

export interface GcCounts { major: number; minor: number; pauseMs: number }

const counts: GcCounts = { major: 0, minor: 0, pauseMs: 0 };
let watching = false;

/** Starts counting this process's collections (once). */
export function watchGc(): void {
  if (watching) return;
  watching = true;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
      counts.pauseMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
}

export function gcCounts(): GcCounts {
  return { ...counts };
}

/** "12 major, 3 minor, 140 ms paused" since `before`. */
export function gcDelta(before: GcCounts, after: GcCounts = gcCounts()): string {
  return `${after.major - before.major} major, ${after.minor - before.minor} minor, ${Math.round(after.pauseMs - before.pauseMs)} ms paused`;
}
