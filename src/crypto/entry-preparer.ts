// Moves the per-entry work of a received batch off the main thread: rebuilding packed entries,
// hashing every entry and opening its ciphertext. It runs on a worker thread beside the main
// thread's work on the previous batch (Yjs, SQLite, the network): during a catch-up the main thread
// is the bottleneck and the second core was mostly idle (DESIGN.md §5). One worker per process,
// started on first use, not keeping the process alive when idle.
// Anything that goes wrong with the worker only costs speed: the work is then done inline (small
// batches always are: they are not worth a round trip). A malformed packed batch is an error
// either way (DecodeError), as for any malformed frame.
import { Worker } from 'node:worker_threads';
import { DecodeError } from '../core/bytes.ts';
import { HASH_BYTES } from '../core/entry.ts';
import type { PreparedBatch, ReadyBatch, ReceivedBatch } from '../core/entry-crypto.ts';
import { unpackEntries } from '../core/entry-pack.ts';
import { NOT_OPENED, NOT_TRIED, type PrepareDone, type PrepareRequest, type PrepareResult } from './entry-prepare-messages.ts';
import { hashInto } from './sodium.ts';

/** Batches smaller than this are cheaper to do inline than to send to the worker and back. */
export const MIN_PREPARED_BATCH = 64;

/** Answers by entry object: the very bytes objects handed to ingest. */
class Prepared implements PreparedBatch {
  private readonly index = new Map<Uint8Array, number>();
  private readonly hashes: Uint8Array;
  private readonly plains: Uint8Array | undefined;
  private readonly offs: Int32Array | undefined;
  private readonly plainLens: Uint32Array | undefined;

  constructor(entries: readonly Uint8Array[], hashes: Uint8Array, res?: PrepareDone) {
    for (let i = 0; i < entries.length; i++) this.index.set(entries[i], i);
    this.hashes = hashes;
    if (res) { this.plains = new Uint8Array(res.plain); this.offs = res.offs; this.plainLens = res.plainLens; }
  }

  hash(bytes: Uint8Array): Uint8Array | undefined {
    const i = this.index.get(bytes);
    return i === undefined ? undefined : this.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  plain(bytes: Uint8Array): Uint8Array | null | undefined {
    const i = this.index.get(bytes);
    if (i === undefined || !this.offs) return undefined;
    const at = this.offs[i];
    if (at === NOT_TRIED) return undefined;
    if (at === NOT_OPENED) return null;
    return this.plains!.subarray(at, at + this.plainLens![i]);
  }
}

/** Rebuilds a packed batch on this thread (hashes come with it). Throws DecodeError. */
export function unpackInline(packed: Uint8Array): ReadyBatch {
  const u = unpackEntries(packed, hashInto);
  return { entries: u.entries, prepared: new Prepared(u.entries, u.hashes) };
}

interface Job {
  batch: ReceivedBatch;
  resolve: (r: ReadyBatch) => void;
  reject: (e: Error) => void;
}

export class EntryPreparer {
  /** Batches and entries prepared on the worker, and its CPU time for them (diagnostics, tests). */
  readonly stats = { batches: 0, entries: 0, workerCpuMs: 0 };
  private worker: Worker | undefined;
  private failed = false;
  /** The worker has loaded its modules and answers at once. */
  private ready = false;
  private nextId = 1;
  private readonly waiting = new Map<number, Job>();

  /**
   * Rebuilds (if packed), hashes and opens `batch` on the worker. Rejects only with a DecodeError
   * for a malformed packed batch; a small batch, or no worker, gets the inline path.
   */
  prepare(batch: ReceivedBatch, keys: ReadonlyMap<number, Uint8Array>): Promise<ReadyBatch> {
    const small = 'entries' in batch && batch.entries.length < MIN_PREPARED_BATCH;
    // Until the worker has loaded (a few hundred ms on a busy start) batches are done inline
    // rather than waiting for it.
    const worker = small ? undefined : this.start();
    if (worker && !this.ready) return this.inline(batch);
    if (!worker) return this.inline(batch);
    let buf: ArrayBuffer;
    let lens: Uint32Array;
    if ('entries' in batch) {
      let total = 0;
      for (const b of batch.entries) total += b.byteLength;
      buf = new ArrayBuffer(total);
      const all = new Uint8Array(buf);
      lens = new Uint32Array(batch.entries.length);
      let at = 0;
      for (let i = 0; i < batch.entries.length; i++) { all.set(batch.entries[i], at); at += batch.entries[i].byteLength; lens[i] = batch.entries[i].byteLength; }
    } else {
      buf = Uint8Array.from(batch.packed).buffer;
      lens = new Uint32Array(0);
    }
    const id = this.nextId++;
    const req: PrepareRequest = { id, buf, packed: !('entries' in batch), lens, keys: [...keys].map(([epoch, key]) => [epoch, Uint8Array.from(key)]) };
    return new Promise((resolve, reject) => {
      // Referenced only while it owes answers: an idle worker must not keep the process alive.
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { batch, resolve, reject });
      worker.postMessage(req, [buf, lens.buffer as ArrayBuffer]);
    });
  }

  /**
   * Starts the worker ahead of the first batch (it takes a moment to load); resolves once it is
   * ready, or could not start (then everything is done inline).
   */
  warm(): Promise<void> {
    const w = this.start();
    if (!w || this.ready) return Promise.resolve();
    // Referenced while loading, so that awaiting this keeps the loop alive.
    w.ref();
    return new Promise((resolve) => { this.readyWaiters.push(resolve); });
  }

  private inline(batch: ReceivedBatch): Promise<ReadyBatch> {
    try {
      return Promise.resolve('entries' in batch ? { entries: batch.entries } : unpackInline(batch.packed));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Stops the worker; batches still waiting are done inline. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failed = true;
    this.ready = false;
    this.settleInline();
    // Referenced while it ends: an unreferenced worker's exit does not keep the loop alive to await it.
    if (w) { w.ref(); await w.terminate(); }
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    const w = new Worker(new URL('./entry-prepare-worker.ts', import.meta.url));
    w.unref();
    w.on('message', (res: PrepareResult | 'ready') => {
      if (res === 'ready') {
        this.ready = true;
        if (this.waiting.size === 0) w.unref();
        this.wake();
        return;
      }
      const job = this.waiting.get(res.id);
      if (!job) return;
      this.waiting.delete(res.id);
      if (this.waiting.size === 0) w.unref();
      if ('error' in res) { job.reject(new DecodeError(res.error)); return; }
      const entries = 'entries' in job.batch ? job.batch.entries : split(res);
      this.stats.batches++;
      this.stats.entries += entries.length;
      this.stats.workerCpuMs += res.cpuMs;
      job.resolve({ entries, prepared: new Prepared(entries, new Uint8Array(res.hashes), res) });
    });
    // A worker that cannot start or dies is not worth retrying: inline work is correct, only slower.
    const fail = () => { this.failed = true; this.ready = false; this.worker = undefined; this.settleInline(); this.wake(); };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }

  private readonly readyWaiters: (() => void)[] = [];

  private wake(): void {
    for (const r of this.readyWaiters.splice(0)) r();
  }

  private settleInline(): void {
    for (const job of this.waiting.values()) {
      try {
        job.resolve('entries' in job.batch ? { entries: job.batch.entries } : unpackInline(job.batch.packed));
      } catch (err) {
        job.reject(err as Error);
      }
    }
    this.waiting.clear();
  }
}

/**
 * The rebuilt entries of a packed batch, as plain Uint8Array views: decoding takes a few views of
 * each, and a Uint8Array's subarray costs much less than a Buffer's (the main thread's crypto on
 * them is one signature check per run).
 */
function split(res: PrepareDone): Uint8Array[] {
  const all = new Uint8Array(res.entries!);
  const lens = res.lens!;
  const out: Uint8Array[] = new Array(lens.length);
  let at = 0;
  for (let i = 0; i < lens.length; i++) { out[i] = all.subarray(at, at + lens[i]); at += lens[i]; }
  return out;
}
