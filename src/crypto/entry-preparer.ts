// Moves the per-entry crypto of a received batch (BLAKE2b hash, AEAD open) to a worker thread, so
// that it runs beside the main thread's work on the previous batch (Yjs, SQLite, the network):
// during a catch-up the main thread is the bottleneck and the second core was mostly idle
// (DESIGN.md §5). One worker per process, started on first use and not keeping the process alive.
// Anything that goes wrong here only costs speed: the caller gets no prepared work and computes
// everything itself, as for small batches, which are not worth a round trip.
import { Worker } from 'node:worker_threads';
import { HASH_BYTES } from '../core/entry.ts';
import type { PreparedBatch } from '../core/entry-crypto.ts';
import { NOT_OPENED, NOT_TRIED, type PrepareRequest, type PrepareResult } from './entry-prepare-messages.ts';

/** Batches smaller than this are cheaper to do inline than to send to the worker and back. */
export const MIN_PREPARED_BATCH = 64;

class Prepared implements PreparedBatch {
  private readonly index = new Map<Uint8Array, number>();
  private readonly hashes: Uint8Array;
  private readonly plains: Uint8Array;
  private readonly res: PrepareResult;

  constructor(batch: readonly Uint8Array[], res: PrepareResult) {
    for (let i = 0; i < batch.length; i++) this.index.set(batch[i], i);
    this.res = res;
    this.hashes = new Uint8Array(res.hashes);
    this.plains = new Uint8Array(res.plain);
  }

  hash(bytes: Uint8Array): Uint8Array | undefined {
    const i = this.index.get(bytes);
    return i === undefined ? undefined : this.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  plain(bytes: Uint8Array): Uint8Array | null | undefined {
    const i = this.index.get(bytes);
    if (i === undefined) return undefined;
    const at = this.res.offs[i];
    if (at === NOT_TRIED) return undefined;
    if (at === NOT_OPENED) return null;
    return this.plains.subarray(at, at + this.res.plainLens[i]);
  }
}

export class EntryPreparer {
  /** Batches and entries prepared on the worker (diagnostics, tests). */
  readonly stats = { batches: 0, entries: 0 };
  private worker: Worker | undefined;
  private failed = false;
  private nextId = 1;
  private readonly waiting = new Map<number, { batch: readonly Uint8Array[]; resolve: (p: PreparedBatch | undefined) => void }>();

  /**
   * Hashes and opens `batch` on the worker. Resolves to undefined (never rejects) for a small
   * batch or when the worker is unavailable: the caller then does the work itself.
   */
  prepare(batch: readonly Uint8Array[], keys: ReadonlyMap<number, Uint8Array>): Promise<PreparedBatch | undefined> {
    if (batch.length < MIN_PREPARED_BATCH) return Promise.resolve(undefined);
    const worker = this.start();
    if (!worker) return Promise.resolve(undefined);
    let total = 0;
    for (const b of batch) total += b.byteLength;
    const buf = new ArrayBuffer(total);
    const all = new Uint8Array(buf);
    const lens = new Uint32Array(batch.length);
    let at = 0;
    for (let i = 0; i < batch.length; i++) { all.set(batch[i], at); at += batch[i].byteLength; lens[i] = batch[i].byteLength; }
    const id = this.nextId++;
    const req: PrepareRequest = { id, buf, lens, keys: [...keys].map(([epoch, key]) => [epoch, Uint8Array.from(key)]) };
    return new Promise((resolve) => {
      // Referenced only while it owes answers: an idle worker must not keep the process alive.
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { batch, resolve });
      worker.postMessage(req, [buf, lens.buffer as ArrayBuffer]);
    });
  }

  /** Stops the worker; batches still waiting get no prepared work. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failed = true;
    this.settleAll();
    if (w) await w.terminate();
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    const w = new Worker(new URL('./entry-prepare-worker.ts', import.meta.url));
    w.unref();
    w.on('message', (res: PrepareResult) => {
      const job = this.waiting.get(res.id);
      if (!job) return;
      this.waiting.delete(res.id);
      if (this.waiting.size === 0) w.unref();
      this.stats.batches++;
      this.stats.entries += job.batch.length;
      job.resolve(new Prepared(job.batch, res));
    });
    // A worker that cannot start or dies is not worth retrying: inline work is correct, only slower.
    const fail = () => { this.failed = true; this.worker = undefined; this.settleAll(); };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }

  private settleAll(): void {
    for (const job of this.waiting.values()) job.resolve(undefined);
    this.waiting.clear();
  }
}
