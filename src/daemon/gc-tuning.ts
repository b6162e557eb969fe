// Garbage-collector settings for the long-running processes (peer daemon, relay daemon).
//
// Moving a file means hundreds of MB/s in short-lived Buffers: every read from a socket, every
// Noise message encrypted, every chunk read from disk is a fresh ArrayBuffer outside the JavaScript
// heap, dead a few milliseconds later. The JavaScript side allocates little meanwhile, so scavenges
// are rare and nothing frees those buffers promptly; what V8 did instead was start full (major)
// collections over and over: during a 1 GiB transfer each of our processes ran dozens, each
// marking the whole heap (Yjs documents, the peer's state) with helper threads, for buffers a
// scavenge frees just as well. Two changes, both measured in bench/files (bench/RESULTS.md):
// 1. a watchdog asks for a young-generation collection (gc({ type: 'minor' }), the function that
//    --expose-gc provides) whenever ArrayBuffer memory has grown by STEP_BYTES since it last
//    looked: the buffers die young and the resident size stays flat. It looks often while memory
//    moves and backs off to once a second when idle (no busy wake-ups on a laptop);
// 2. incremental marking starts at fixed shares of the room left below the heap limit (50% soft,
//    80% hard) instead of V8's default heuristic, which in our processes kept starting a full
//    marking with most of that room still free.
// Together: major GCs during a transfer fell from 30-50 to a few per process, CPU per GiB by about
// a third, peak RSS unchanged. (Counting external memory in V8's global limit was tried too: as
// fast, but peaks rose by up to 60 MiB.) The flags are set through Node's documented
// v8.setFlagsFromString before the peer starts.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** ArrayBuffer growth that triggers a young-generation collection. */
const STEP_BYTES = 8 * 1024 * 1024;
const FAST_MS = 20;
const IDLE_MS = 1000;

type Gc = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

let applied = false;

/** Applies the settings and starts the watchdog, once per process; call before the peer starts. */
export function tuneGcForStreaming(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--incremental-marking-soft-trigger=50');
  setFlagsFromString('--incremental-marking-hard-trigger=80');
  // --expose-gc set now gives new contexts a gc function (the main one keeps none).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as Gc | undefined;
  if (typeof gc !== 'function') return;
  let last = process.memoryUsage().arrayBuffers;
  let delay = FAST_MS;
  const look = (): void => {
    const now = process.memoryUsage().arrayBuffers;
    if (now > last + STEP_BYTES) {
      gc({ type: 'minor', execution: 'async' });
      last = now;
      delay = FAST_MS;
    } else {
      // Memory moving (up or down): keep looking often; quiet: back off.
      delay = Math.abs(now - last) > STEP_BYTES / 16 ? FAST_MS : Math.min(IDLE_MS, delay * 2);
      if (now < last) last = now;
    }
    setTimeout(look, delay).unref();
  };
  setTimeout(look, delay).unref();
}
