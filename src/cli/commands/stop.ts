// `trellis stop`: asks the running daemon to shut down and waits until it has.
import type { Command } from 'commander';
import { isProcessAlive } from '../../daemon/api-file.ts';
import { connectApi } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { printLine } from '../output.ts';

const WAIT_MS = 20_000;

export function registerStop(program: Command): void {
  program.command('stop')
    .description('stop the running daemon')
    .action(async (_opts: unknown, cmd: Command) => {
      const api = connectApi(homeOf(cmd));
      await api.post('/api/shutdown');
      const deadline = Date.now() + WAIT_MS;
      while (isProcessAlive(api.file.pid)) {
        if (Date.now() > deadline) throw new CliError(EXIT_USAGE, `the daemon (pid ${api.file.pid}) is still shutting down after ${WAIT_MS / 1000} s: check its log`);
        await new Promise((r) => setTimeout(r, 100));
      }
      printLine('stopped');
    });
}
