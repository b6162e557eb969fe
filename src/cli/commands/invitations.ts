// `trellis invite WS` (print a one-time code) and `trellis join CODE` (use one).
import { Option, type Command } from 'commander';
import { ROLES } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { homeOf } from '../home.ts';
import { parseDuration } from '../duration.ts';
import { printJson, printLine } from '../output.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { runJoin } from './join-queued.ts';

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
    .description('join a workspace with an invitation code; waits until its history is synced (if the inviter is offline, until they accept the request queued at a relay)')
    .argument('<code>', 'the invitation code')
    .option('--json', 'machine-readable output')
    // Relays (src/relay/, join-queued.ts): a request queued while the inviter is offline.
    .option('--no-wait', 'if the request is queued at a relay, return at once; the daemon completes the join later')
    .option('--timeout <duration>', 'how long to wait for an offline inviter to accept, e.g. 10m, 2h', '10m')
    .action(async (code: string, opts: { json?: boolean; wait: boolean; timeout: string }, cmd: Command) => {
      const clean = code.trim();
      if (clean === '' || /\s/.test(clean)) throw new CliError(EXIT_USAGE, 'the invitation code must be one word: paste it exactly as you received it');
      const timeoutMs = parseDuration(opts.timeout, '--timeout');
      await runJoin(connectApi(homeOf(cmd)), clean, { ...(opts.json ? { json: true } : {}), wait: opts.wait, timeoutMs });
    });
}
