// Managing who is in a workspace and what they may do:
//   trellis role WS MEMBER ROLE           change a member's role (managers)
//   trellis remove WS MEMBER              remove a member or a device; starts a new key epoch
//   trellis leave WS                      leave a workspace
//   trellis audit WS                      entries that were refused or had no effect (managers)
//   trellis permissions WS                which roles may write chat and documents
//   trellis permissions set WS --chat R --doc R
//   trellis epochs WS                     key epochs: current, and those this device holds keys for
//   trellis device add WS                 an invitation code for another device of yours
// MEMBER is a member's name (as `trellis members` shows it), its key, or a unique key prefix.
import type { Command } from 'commander';
import { ROLES, type AuditItem, type MemberInfo, type Role } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { parseDuration } from '../duration.ts';
import { homeOf } from '../home.ts';
import { printJson, printLine, printTable, safeLine } from '../output.ts';
import { WORKSPACE_HINT } from './invitations.ts';

interface Permissions { chat: Role[]; doc: Role[] }

const MEMBER_HINT = 'check the workspace with `trellis workspace list` and the member with `trellis members WS`';

function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw new CliError(EXIT_USAGE, `unknown role "${safeLine(role)}": use ${ROLES.join(', ')}`);
  return role as Role;
}

/** "manager,participant" -> roles; "none" (or nothing) means no role at all may write. */
function parseRoles(text: string, option: string): Role[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 1 && items[0] === 'none') return [];
  const roles: Role[] = [];
  for (const item of items) {
    if (!(ROLES as readonly string[]).includes(item)) {
      throw new CliError(EXIT_USAGE, `${option}: unknown role "${safeLine(item)}": give a comma-separated list of ${ROLES.join(', ')} (or none)`);
    }
    if (!roles.includes(item as Role)) roles.push(item as Role);
  }
  return roles;
}

const rolesText = (roles: Role[]): string => (roles.length === 0 ? 'none' : roles.join(', '));

function printPermissions(p: Permissions, json: boolean | undefined): void {
  if (json) {
    printJson({ chat: p.chat, doc: p.doc });
    return;
  }
  printTable([['chat', rolesText(p.chat)], ['doc', rolesText(p.doc)]], ['TOOL', 'MAY WRITE']);
}

export function registerMembership(program: Command): void {
  program.command('role')
    .description("change a member's role (managers only)")
    .argument('<ws>', 'workspace id or name')
    .argument('<member>', 'member name, key, or unique key prefix (see `trellis members WS`)')
    .argument('<role>', `new role: ${ROLES.join(', ')}`)
    .option('--json', 'print the member as JSON')
    .action(async (ws: string, member: string, role: string, opts: { json?: boolean }, cmd: Command) => {
      const m = await connectApi(homeOf(cmd)).post<MemberInfo>(
        `/api/workspaces/${seg(ws)}/members/${seg(member)}/role`, { role: checkRole(role) }, { notFoundHint: MEMBER_HINT });
      if (opts.json) printJson({ name: m.name, key: m.key, role: m.role, online: m.online });
      else printLine(`${safeLine(m.name)} is now ${m.role}`);
    });

  program.command('remove')
    .description('remove a member (or one of your devices); the workspace key is replaced so they cannot read what follows')
    .argument('<ws>', 'workspace id or name')
    .argument('<member>', 'member name, key, or unique key prefix (see `trellis members WS`)')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, member: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await connectApi(homeOf(cmd)).delete<{ removed: string; epoch: number }>(
        `/api/workspaces/${seg(ws)}/members/${seg(member)}`, { notFoundHint: MEMBER_HINT });
      if (opts.json) printJson({ removed: r.removed, epoch: r.epoch });
      else printLine(`removed ${safeLine(member)}; new key epoch ${r.epoch}`);
    });

  program.command('leave')
    .description('leave a workspace; a manager then replaces the key')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      await connectApi(homeOf(cmd)).post(`/api/workspaces/${seg(ws)}/leave`, {}, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson({ left: true });
      else printLine(`left ${safeLine(ws)}`);
    });

  program.command('audit')
    .description('entries that were refused or had no effect, with the reason (managers only)')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const items = await connectApi(homeOf(cmd)).get<AuditItem[]>(`/api/workspaces/${seg(ws)}/audit`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) {
        printJson(items.map((i) => ({ author: i.author, authorName: i.authorName, seq: i.seq, reason: i.reason })));
        return;
      }
      if (items.length === 0) {
        printLine('nothing refused');
        return;
      }
      // Authors may be strangers with no name: their key prefix identifies them.
      printTable(items.map((i) => [safeLine(i.authorName || '?'), i.author.slice(0, 16), String(i.seq), safeLine(i.reason)]), ['AUTHOR', 'KEY', 'SEQ', 'REASON']);
    });

  const permissions = program.command('permissions')
    .description('show which roles may write chat and documents (`permissions set` changes it)')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      printPermissions(await connectApi(homeOf(cmd)).get<Permissions>(`/api/workspaces/${seg(ws)}/permissions`, { notFoundHint: WORKSPACE_HINT }), opts.json);
    });

  permissions.command('set')
    .description('set which roles may write chat and documents (managers only)')
    .argument('<ws>', 'workspace id or name')
    .requiredOption('--chat <roles>', `comma-separated roles that may write chat (${ROLES.join(',')}, or none)`)
    .requiredOption('--doc <roles>', `comma-separated roles that may write documents (${ROLES.join(',')}, or none)`)
    .option('--json', 'print the new table as JSON')
    .action(async (ws: string, opts: { chat: string; doc: string; json?: boolean }, cmd: Command) => {
      const table: Permissions = { chat: parseRoles(opts.chat, '--chat'), doc: parseRoles(opts.doc, '--doc') };
      const next = await connectApi(homeOf(cmd)).put<Permissions>(`/api/workspaces/${seg(ws)}/permissions`, table, { notFoundHint: WORKSPACE_HINT });
      // `permissions` has a --json of its own, which commander gives the parent wherever it is written.
      printPermissions(next, opts.json === true || cmd.optsWithGlobals<{ json?: boolean }>().json === true);
    });

  program.command('epochs')
    .description('key epochs: the one new entries use, and those this device holds keys for (never the keys)')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const e = await connectApi(homeOf(cmd)).get<{ current: number; held: number[] }>(`/api/workspaces/${seg(ws)}/epochs`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson({ current: e.current, held: e.held });
      else printTable([['current', String(e.current)], ['held', e.held.join(', ') || 'none']]);
    });

  const device = program.command('device').description('devices of your own identity');
  device.command('add')
    .description('print an invitation code for another device of yours; run `trellis join CODE` on that device')
    .argument('<ws>', 'workspace id or name')
    .option('--expires <duration>', 'how long the code stays valid, e.g. 30m, 12h, 7d', '1d')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { expires: string; json?: boolean }, cmd: Command) => {
      const expiresInMs = parseDuration(opts.expires, '--expires');
      const { code } = await connectApi(homeOf(cmd)).post<{ code: string }>(
        `/api/workspaces/${seg(ws)}/invites`, { role: 'device', expiresInMs }, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson({ code });
      else printLine(code);
    });
}
