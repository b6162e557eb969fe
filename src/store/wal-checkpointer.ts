// Checkpoints the SQLite WAL on a worker thread. A checkpoint copies the WAL into the database file
// and syncs both: during a catch-up that stalled the main thread for a large share of the time,
// every ~40 MB. On its own connection and thread, a PASSIVE checkpoint runs beside the main
// connection's writes. The worker starts on the first request (small stores never need one) and
// never keeps the process alive. If it cannot run, SQLite's own autocheckpoint (set high by the
// store) still bounds the WAL.
import { Worker } from 'node:worker_threads';

export class WalCheckpointer {
  private readonly path: string;
  private readonly log: (line: string) => void;
  private worker: Worker | undefined;
  private running = false;
  private again = false;
  private failed = false;

  constructor(path: string, log: (line: string) => void = () => {}) {
    this.path = path;
    this.log = log;
  }

  /** Asks for a checkpoint; requests made while one runs coalesce into one more. */
  request(): void {
    if (this.failed) return;
    if (this.running) { this.again = true; return; }
    const w = this.start();
    if (!w) return;
    this.running = true;
    w.ref();
    w.postMessage('checkpoint');
  }

  /** Lets the worker close its connection and end (not awaited: the store's close is synchronous). */
  close(): void {
    this.failed = true;
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    w.postMessage('close');
    w.unref();
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./wal-checkpoint-worker.ts', import.meta.url), { workerData: { path: this.path } });
    w.unref();
    w.on('message', (m: { error?: string }) => {
      this.running = false;
      if (m.error) this.log(`store: background checkpoint failed: ${m.error}`);
      if (this.again) { this.again = false; this.request(); } else w.unref();
    });
    const fail = (err?: Error) => {
      if (this.worker === w && err) this.log(`store: checkpoint thread stopped: ${err.message}`);
      if (this.worker === w) { this.failed = true; this.worker = undefined; }
      this.running = false;
    };
    w.on('error', fail);
    w.on('exit', () => fail());
    this.worker = w;
    return w;
  }
}
