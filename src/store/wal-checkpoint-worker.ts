// The thread behind wal-checkpointer.ts: its own connection to the database, used only to copy the
// WAL back into the database file (a PASSIVE checkpoint never blocks the main connection's writes).
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const db = new DatabaseSync((workerData as { path: string }).path);
db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');

parentPort!.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let error: string | undefined;
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch (err) {
    error = (err as Error).message;
  }
  parentPort!.postMessage({ done: true, error });
});
