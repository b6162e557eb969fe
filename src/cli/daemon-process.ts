// What `trellis start` and `trellis relay` share as long-running processes: refusing a home that
// a live daemon already serves, and the signal and last-resort error handling around shutdown.
import { isProcessAlive, readApiFile } from '../daemon/api-file.ts';
import { connectApi } from './api-client.ts';
import { CliError, EXIT_NOT_RUNNING, EXIT_USAGE } from './cli-error.ts';

/** Exit 1 if a live daemon already serves this home: two daemons on one store would corrupt it. */
export async function refuseIfRunning(home: string): Promise<void> {
  let file;
  try { file = readApiFile(home); } catch { return; }
  if (file === undefined || file.pid === process.pid || !isProcessAlive(file.pid)) return;
  try {
    await connectApi(home).get('/api/status', { timeoutMs: 3000 });
  } catch (err) {
    // Nothing answers with that token: a stale file from a daemon that died. Any other failure
    // (an error status, no answer in time) still means a daemon holds the home.
    if (err instanceof CliError && err.exitCode === EXIT_NOT_RUNNING) return;
  }
  throw new CliError(EXIT_USAGE, `a daemon is already running for ${home} at ${file.url} (pid ${file.pid}): use it, or stop it with \`trellis stop\``);
}

/**
 * SIGINT/SIGTERM shut down cleanly (a second one exits at once); an uncaught error shuts down with
 * exit 1 and one log line, never a stack trace; an unhandled rejection is logged and survived.
 */
export function handleProcessSignals(what: string, shutdown: (why: string) => Promise<void>, shuttingDown: () => boolean, log: (line: string) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second Ctrl-C means "now": skip the clean shutdown.
      if (shuttingDown()) process.exit(130);
      void shutdown(signal);
    });
  }
  // A bug somewhere in the stack must not leave a stale api.json or print a stack trace to users.
  process.on('uncaughtException', (err) => {
    log(`unexpected error: ${err.name}: ${err.message.split('\n')[0]}`);
    void shutdown('unexpected error').finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (reason) => {
    const e = reason instanceof Error ? reason : new Error(String(reason));
    log(`unhandled rejection (a bug; the ${what} keeps running): ${e.name}: ${e.message.split('\n')[0]}`);
  });
}
