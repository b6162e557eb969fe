// `trellis invite WS` (print a one-time code) and `trellis join CODE` (use one).
import { Option, type Command } from 'commander';
import { ROLES } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { homeOf } from '../home.ts';
import { parseDuration } from '../duration.ts';
import { printJson, printLine } from '../output.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';

/** Joining syncs the whole history before it answers; give it far longer than other calls. */
const JOIN_TIMEOUT_MS = 300_000;
export const WORKSPACE_HINT = 'list yours with `trellis workspace list`';

export function registerInvitations(program: Command): void {
  program.command('invite')
    .description('print an invitation code for a workspace (give it to the person you invite)')
    .argument('<ws>', 'workspace id or name')
    .addOption(new Option('--role <role>', 'role of the new member, or device: another device of yours').choices([...ROLES, 'device']).default('participant'))
    .option('--expires <duration>', 'how long the code stays valid, e.g. 30m, 12h, 7d', '7d')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { role: string; expires: string; json?: boolean }, cmd: Command) => {
      const expiresInMs = parseDuration(opts.expires, '--expires');
      const { code } = await connectApi(homeOf(cmd)).post<{ code: string }>(
        `/api/workspaces/${seg(ws)}/invites`, { role: opts.role, expiresInMs }, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson({ code });
      else printLine(code);
    });

  program.command('join')
    .description('join a workspace with an invitation code; waits until its history is synced')
    .argument('<code>', 'the invitation code')
    .option('--json', 'machine-readable output')
    .action(async (code: string, opts: { json?: boolean }, cmd: Command) => {
      const clean = code.trim();
      if (clean === '' || /\s/.test(clean)) throw new CliError(EXIT_USAGE, 'the invitation code must be one word: paste it exactly as you received it');
      const api = connectApi(homeOf(cmd));
      if (process.stderr.isTTY) process.stderr.write('joining and syncing the history; this can take a while...\n');
      const { id } = await api.post<{ id: string }>('/api/join', { code: clean }, { timeoutMs: JOIN_TIMEOUT_MS });
      if (opts.json) printJson({ id });
      else printLine(`joined workspace ${id}`);
    });
}
