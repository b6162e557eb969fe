// `trellis invite WS` (print a one-time code), `trellis join CODE` (use one), `trellis invitations
// WS` (the codes this device issued and what became of them) and `trellis uninvite WS ID`.
import { Option, type Command } from 'commander';
import { ROLES, type InviteInfo } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { homeOf } from '../home.ts';
import { parseDuration } from '../duration.ts';
import { formatTime, printJson, printLine, printTable, safeLine } from '../output.ts';
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

  program.command('invitations')
    .description('the invitations this device issued for a workspace: id, role, expiry, and whether each is open, used, expired or revoked')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<InviteInfo[]>(`/api/workspaces/${seg(ws)}/invites`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) { printJson(list); return; }
      if (list.length === 0) { printLine('no invitations issued from this device: create one with `trellis invite WS`'); return; }
      printTable(list.map((i) => [
        i.id.slice(0, 16), i.role, i.state, formatTime(i.expires),
        i.state === 'used' ? safeLine(i.usedByName ?? i.usedBy?.slice(0, 8) ?? '') : i.state === 'revoked' ? `by ${i.revokedBy?.slice(0, 8) ?? '?'}` : '',
      ]), ['INVITATION', 'ROLE', 'STATE', 'EXPIRES', 'USED BY / REVOKED']);
    });

  program.command('uninvite')
    .description('revoke an unused invitation (managers): every member, manager and relay then refuses it')
    .argument('<ws>', 'workspace id or name')
    .argument('<id>', 'the invitation id, or its first 8+ hex digits (see `trellis invitations WS`)')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, id: string, opts: { json?: boolean }, cmd: Command) => {
      const clean = id.trim();
      if (!/^[0-9a-fA-F]{8,64}$/.test(clean)) throw new CliError(EXIT_USAGE, 'give the invitation id, or at least its first 8 hex digits (`trellis invitations WS` lists them)');
      const info = await connectApi(homeOf(cmd)).delete<InviteInfo>(`/api/workspaces/${seg(ws)}/invites/${seg(clean)}`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson(info);
      else printLine(`revoked invitation ${info.id.slice(0, 16)}`);
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
