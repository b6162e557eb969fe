// The requesting side of /trellis/chunks/1.0.0: fetches a set of sealed chunks from whichever
// connected members hold them. One stream per member, each with a bounded window of requested but
// unanswered chunks (so memory stays bounded and the pipe stays full) sized to the path: about twice
// what the member delivers in one round trip (see Pipe); a chunk is asked of one member at a time. Every chunk's SHA-256 is checked: a corrupted one is counted, discarded and
// asked again, of another member if one may have it. A member that says MISSING is not asked for
// that chunk again until every member has said so (then all are asked again a little later: they
// may have fetched it meanwhile). Streams that fail are reopened when the member is connected
// again, so a transfer survives disconnects; the job fails only when nothing has arrived for a
// while and no connected member can help.
import { toHex } from '../../core/bytes.ts';
import type { ByteStream } from '../../core/byte-stream.ts';
import { TrellisError } from '../../core/errors.ts';
import { sha256Hex } from '../../crypto/stream-seal.ts';
import { BufferPool } from './buffer-pool.ts';
import { ChunkFrameType, CHUNKS_VERSION, encodeChunkFrame, MAX_CHUNK_FRAME, MAX_SEALED_CHUNK, type ChunkFrame } from './chunk-frames.ts';
import { readChunkFrames, withTimeout } from './frame-reader.ts';

export interface FetchSource {
  /** Member key, hex. */
  key: string;
  /** libp2p peer id, to open a stream. */
  peerId: string;
}

export interface FetchOptions {
  /** 16-byte workspace id. */
  workspace: Uint8Array;
  /** Members to ask, now (connected, excluding ourselves); called again as the job goes on. */
  sources: () => FetchSource[];
  open: (peerId: string) => Promise<ByteStream>;
  /**
   * Receives each verified chunk (writes it out, stores it); awaited: that is the back-pressure. A
   * rejection fails the job. `sealed` may be reused once the returned promise settles.
   */
  accept: (hashHex: string, sealed: Uint8Array) => Promise<void>;
  log: (line: string) => void;
  /**
   * Most chunks requested from one member and not yet answered (default: 16 MiB of chunks). Each
   * stream adapts below that to what the path needs; see Pipe.
   */
  window?: number;
  /**
   * The largest sealed chunk expected (default: a 256 KiB chunk). Sizes the reused frame buffers
   * and turns the window's bounds, set in bytes, into chunks.
   */
  chunkBytes?: number;
  /** Fail when nothing arrived for this long (members gone, or all refusing). Default 60 s. */
  stallMs?: number;
  /** Fail when every connected member has said MISSING for the remaining chunks for this long. Default 10 s. */
  missingMs?: number;
  signal?: AbortSignal;
  /** Called for every chunk that fails its hash check (counters). */
  onCorrupt?: (fromKey: string) => void;
}

export interface FetchResult {
  fetched: number;
  bytes: number;
  corrupt: number;
}

const WANT_BATCH = 8;
/** A standard sealed chunk (256 KiB and its tag). */
const DEFAULT_CHUNK_BYTES = 256 * 1024 + 16;
/** Most bytes of chunks requested from one member and not yet answered. */
const MAX_WINDOW_BYTES = 16 * 1024 * 1024;
/** Fewest: enough to keep a member busy while the next requests travel on a LAN. */
const MIN_WINDOW_BYTES = 2 * 1024 * 1024;
/** ...and never fewer chunks than this, however big they are. */
const MIN_WINDOW_CHUNKS = 4;
/** Frame buffers kept for reuse: about what one stream has in flight on a short path (at least twice the smallest window). */
const POOL_BYTES = 4 * 1024 * 1024;
/** Chunks processed (written, stored) at once per stream while the next ones arrive. */
const ACCEPT_PARALLEL = 4;
/** A chunk that arrives corrupted this many times fails the job. */
const MAX_CORRUPT = 5;
const TICK_MS = 200;
const RETRY_MISSING_MS = 1500;
const READY_TIMEOUT_MS = 15_000;
/** Refusals and failed opens: wait before asking that member again. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 8_000;

/** Fetches `hashes` (hex). Resolves when all arrived and were accepted; TrellisError otherwise. */
export function fetchChunks(hashes: readonly string[], opts: FetchOptions): Promise<FetchResult> {
  return new FetchJob(hashes, opts).run();
}

class RemoteError extends Error {
  readonly code: string;
  constructor(code: string, message: string) { super(message); this.code = code; }
}

interface Backoff { until: number; delay: number }

class FetchJob {
  private readonly opts: FetchOptions;
  private readonly window: number;
  private readonly minWindow: number;
  private readonly queue = new Set<string>();
  private readonly inflight = new Map<string, string>();
  private readonly lacks = new Map<string, Set<string>>();
  private readonly corruptFrom = new Map<string, Map<string, number>>();
  private readonly corruptCount = new Map<string, number>();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly streams = new Set<ByteStream>();
  private sources: FetchSource[] = [];
  private remaining: number;
  private failure: Error | undefined;
  private lastProgress = Date.now();
  private blockedSince: number | undefined;
  private lastRetry = 0;
  private waiters: (() => void)[] = [];
  private readonly result: FetchResult = { fetched: 0, bytes: 0, corrupt: 0 };
  private readonly pool: BufferPool;

  constructor(hashes: readonly string[], opts: FetchOptions) {
    this.opts = opts;
    const chunkBytes = Math.min(MAX_SEALED_CHUNK, Math.max(1024, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    // Rounded: a chunk size and its tag count as the chunk size (256 KiB chunks: 8 to 64, as before).
    this.minWindow = Math.max(MIN_WINDOW_CHUNKS, Math.round(MIN_WINDOW_BYTES / chunkBytes));
    this.window = Math.max(1, opts.window ?? Math.max(this.minWindow, Math.round(MAX_WINDOW_BYTES / chunkBytes)));
    // Frames of a CHUNK: type, hash, sealed chunk.
    const frameBytes = 1 + 32 + chunkBytes;
    this.pool = new BufferPool(frameBytes, Math.max(2 * this.minWindow, Math.ceil(POOL_BYTES / frameBytes)));
    for (const h of hashes) this.queue.add(h);
    this.remaining = this.queue.size;
  }

  private get finished(): boolean {
    return this.remaining === 0 || this.failure !== undefined;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  async run(): Promise<FetchResult> {
    const { signal } = this.opts;
    const onAbort = (): void => this.fail(new TrellisError('unavailable', 'the transfer was cancelled'));
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();
    try {
      while (!this.finished) {
        this.tick();
        if (this.finished) break;
        await this.changed(TICK_MS);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.failure) for (const s of this.streams) s.abort(this.failure);
      this.wake();
      await Promise.allSettled([...this.workers.values()]);
    }
    if (this.failure) throw this.failure;
    return this.result;
  }

  /** Starts workers for new sources and decides whether to give up. */
  private tick(): void {
    const now = Date.now();
    this.sources = this.opts.sources();
    for (const s of this.sources) {
      if (this.workers.has(s.key)) continue;
      const b = this.backoff.get(s.key);
      if (b && b.until > now) continue;
      if (![...this.queue].some((h) => this.mayAsk(h, s.key))) continue;
      const w = this.worker(s).finally(() => { this.workers.delete(s.key); this.wake(); });
      this.workers.set(s.key, w);
    }
    // Chunks nobody connected has (they all said MISSING): ask again now and then; give up after missingMs.
    const blocked = this.inflight.size === 0 && this.queue.size > 0 && this.sources.length > 0
      && [...this.queue].every((h) => this.sources.every((s) => this.lacks.get(h)?.has(s.key)));
    if (blocked) {
      this.blockedSince ??= now;
      if (now - this.blockedSince >= (this.opts.missingMs ?? 10_000)) {
        this.fail(new TrellisError('unavailable', `${this.queue.size} chunk(s) are held by none of the ${this.sources.length} connected member(s); try again when the member who added the file is online`));
        return;
      }
      if (now - this.lastRetry >= RETRY_MISSING_MS) {
        this.lastRetry = now;
        for (const h of this.queue) this.lacks.delete(h);
      }
    } else {
      this.blockedSince = undefined;
    }
    if (now - this.lastProgress >= (this.opts.stallMs ?? 60_000)) {
      const why = this.sources.length === 0 ? 'no member of the workspace is connected' : 'no connected member sent anything';
      this.fail(new TrellisError('unavailable', `transfer stalled: ${why} for ${Math.round((now - this.lastProgress) / 1000)} s (${this.remaining} chunk(s) left; run the same command again to resume)`));
    }
  }

  /** May `key` be asked for `h` now? Not if it said MISSING, nor if it corrupted it and someone else may have it. */
  private mayAsk(h: string, key: string): boolean {
    if (this.lacks.get(h)?.has(key)) return false;
    const bad = this.corruptFrom.get(h);
    if (!bad?.has(key)) return true;
    const mine = bad.get(key)!;
    // Only ask a member that corrupted it again if every other source did so at least as often.
    return this.sources.every((s) => s.key === key || this.lacks.get(h)?.has(s.key) || (bad.get(s.key) ?? 0) >= mine);
  }

  private pick(key: string): string | undefined {
    for (const h of this.queue) {
      if (!this.mayAsk(h, key)) continue;
      this.queue.delete(h);
      this.inflight.set(h, key);
      return h;
    }
    return undefined;
  }

  private requeue(h: string): void {
    this.inflight.delete(h);
    this.queue.add(h);
  }

  private setBackoff(key: string, reset = false): void {
    const prev = this.backoff.get(key);
    const delay = reset || !prev ? BACKOFF_MIN_MS : Math.min(prev.delay * 2, BACKOFF_MAX_MS);
    this.backoff.set(key, { until: Date.now() + delay, delay });
  }

  private async worker(src: FetchSource): Promise<void> {
    const who = src.key.slice(0, 8);
    let stream: ByteStream;
    try {
      stream = await this.opts.open(src.peerId);
    } catch (err) {
      this.setBackoff(src.key);
      this.opts.log(`files: cannot open a chunk stream to ${who}: ${(err as Error).message}`);
      return;
    }
    this.streams.add(stream);
    const frames = readChunkFrames(stream, MAX_CHUNK_FRAME, (n) => this.pool.take(n));
    const outstanding: string[] = [];
    const pipe = new Pipe(Math.min(this.minWindow, this.window), this.window);
    const accepting: Promise<void>[] = [];
    let clean = false;
    try {
      await stream.write(encodeChunkFrame({ type: ChunkFrameType.hello, version: CHUNKS_VERSION, workspace: this.opts.workspace }));
      const first = await withTimeout(frames.next(), READY_TIMEOUT_MS, 'no answer to HELLO');
      if (first.done) throw new Error('the member closed the stream');
      expectReady(first.value);
      this.backoff.delete(src.key);
      while (!this.finished) {
        const want: Uint8Array[] = [];
        // Refill in batches (fewer, fuller WANT frames), or at once when the pipe ran dry.
        const window = pipe.window;
        const room = window - outstanding.length;
        const batch = Math.min(WANT_BATCH, Math.max(1, window >> 1));
        while (outstanding.length < window && (room >= batch || outstanding.length === 0 || want.length > 0)) {
          const h = this.pick(src.key);
          if (h === undefined) break;
          outstanding.push(h);
          pipe.asked();
          want.push(Buffer.from(h, 'hex'));
        }
        for (let i = 0; i < want.length; i += WANT_BATCH) {
          await stream.write(encodeChunkFrame({ type: ChunkFrameType.want, hashes: want.slice(i, i + WANT_BATCH) }));
        }
        if (outstanding.length === 0) {
          // Nothing for this member now; stop if it can help with nothing that is left.
          if (this.queue.size === 0 && this.inflight.size === 0) break;
          if (![...this.queue].some((h) => this.mayAsk(h, src.key)) && this.inflight.size === 0) break;
          await this.changed(TICK_MS);
          continue;
        }
        const r = await frames.next();
        if (r.done) throw new Error('the member closed the stream');
        const f = r.value;
        if (f.type === ChunkFrameType.error) throw new RemoteError(f.code, f.message);
        if (f.type !== ChunkFrameType.chunk && f.type !== ChunkFrameType.missing) throw new Error(`protocol error: unexpected frame type ${f.type}`);
        const expected = outstanding[0];
        if (toHex(f.hash) !== expected) throw new Error('protocol error: answers out of order');
        outstanding.shift();
        pipe.answered(f.type === ChunkFrameType.chunk ? f.data.byteLength : 0);
        if (f.type === ChunkFrameType.missing) {
          let s = this.lacks.get(expected);
          if (!s) { s = new Set(); this.lacks.set(expected, s); }
          s.add(src.key);
          this.requeue(expected);
          this.wake();
          continue;
        }
        if (sha256Hex(f.data) !== expected) {
          this.pool.give(f.data);
          this.corrupted(expected, src.key);
          continue;
        }
        const data = f.data;
        const p = this.accept(expected, data);
        accepting.push(p);
        // The frame's buffer is reused only once the chunk is stored and written (or failed).
        p.finally(() => { accepting.splice(accepting.indexOf(p), 1); this.pool.give(data); }).catch(() => undefined);
        if (accepting.length >= ACCEPT_PARALLEL) await Promise.race(accepting);
      }
      await Promise.all(accepting);
      clean = true;
    } catch (err) {
      const e = err as Error;
      if (err instanceof RemoteError && (err.code === 'forbidden' || err.code === 'not-found')) {
        // It does not know us as a member (yet): its manifest or membership may catch up.
        this.setBackoff(src.key);
        this.opts.log(`files: ${who} refuses chunk requests: ${err.code}: ${err.message}`);
      } else if (!this.finished) {
        this.setBackoff(src.key);
        this.opts.log(`files: chunk stream with ${who} failed: ${e.message}`);
      }
      await Promise.allSettled(accepting);
    } finally {
      for (const h of outstanding) this.requeue(h);
      this.streams.delete(stream);
      if (clean) void stream.close().catch(() => stream.abort());
      else stream.abort();
      void frames.return(undefined).catch(() => undefined);
    }
  }

  private corrupted(h: string, key: string): void {
    this.result.corrupt++;
    this.opts.onCorrupt?.(key);
    let m = this.corruptFrom.get(h);
    if (!m) { m = new Map(); this.corruptFrom.set(h, m); }
    m.set(key, (m.get(key) ?? 0) + 1);
    const n = (this.corruptCount.get(h) ?? 0) + 1;
    this.corruptCount.set(h, n);
    this.opts.log(`files: a chunk from ${key.slice(0, 8)} failed its SHA-256 check (${n}×); asking again`);
    if (n >= MAX_CORRUPT) {
      this.fail(new TrellisError('unavailable', `a chunk arrived corrupted ${n} times: the members holding it may have damaged copies`));
      return;
    }
    this.requeue(h);
    this.wake();
  }

  private async accept(h: string, data: Uint8Array): Promise<void> {
    try {
      await this.opts.accept(h, data);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.inflight.delete(h);
    this.remaining--;
    this.result.fetched++;
    this.result.bytes += data.byteLength;
    this.lastProgress = Date.now();
    if (this.remaining === 0) this.wake();
  }
}

/**
 * The request window of one stream. Too small a window leaves a far member idle while requests
 * travel (throughput <= window / round trip); too large a one, on a fast path where the receiver is
 * the bottleneck, only queues chunks in buffers: each queued chunk survives young-generation
 * collections and ends up costing full ones (bench/files: 64 chunks of 256 KiB in flight on
 * loopback ran 15% slower than 12). So: about twice the bytes the member delivers per round trip, the round trip
 * being the shortest time seen from a request to its answer (queueing only lengthens it), the rate
 * what it delivered so far. Growing the window raises the rate it can show, so on a long path the
 * window doubles per round trip until the path, not the window, is the limit.
 */
export class Pipe {
  private readonly now: () => number;
  private readonly min: number;
  private readonly max: number;
  /** Request times of outstanding chunks, oldest first. */
  private readonly sent: number[] = [];
  private minRtt = Infinity;
  private bytes = 0;
  private bytesChunks = 0;
  private start = 0;
  window: number;

  /** `now` in milliseconds (a parameter for tests). */
  constructor(min: number, max: number, now: () => number = () => performance.now()) {
    this.now = now;
    this.min = min;
    this.max = Math.max(min, max);
    this.window = min;
  }

  asked(): void {
    const now = this.now();
    if (this.start === 0) this.start = now;
    this.sent.push(now);
  }

  answered(chunkBytes: number): void {
    const now = this.now();
    const at = this.sent.shift();
    if (at !== undefined) this.minRtt = Math.min(this.minRtt, now - at);
    if (chunkBytes === 0) return;
    this.bytes += chunkBytes;
    this.bytesChunks++;
    const elapsed = now - this.start;
    if (elapsed <= 0 || !Number.isFinite(this.minRtt)) return;
    const perChunk = this.bytes / this.bytesChunks;
    const inFlight = (2 * (this.bytes / elapsed) * this.minRtt) / perChunk;
    this.window = Math.max(this.min, Math.min(this.max, Math.ceil(inFlight) + this.min / 2));
  }
}

function expectReady(f: ChunkFrame): void {
  if (f.type === ChunkFrameType.ready) return;
  if (f.type === ChunkFrameType.error) throw new RemoteError(f.code, f.message);
  throw new Error(`protocol error: expected READY, got frame type ${f.type}`);
}
