// `trellis members WS`: who belongs to a workspace.
import type { Command } from 'commander';
import type { MemberInfo } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { homeOf } from '../home.ts';
import { printJson, printTable, safeLine } from '../output.ts';
import { WORKSPACE_HINT } from './invitations.ts';

export function registerMembers(program: Command): void {
  program.command('members')
    .description('list the members of a workspace')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<MemberInfo[]>(`/api/workspaces/${seg(ws)}/members`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) {
        // Presence as far as it is known: idle or not, the tool they have open, typing, the call they are in.
        printJson(list.map((m) => ({
          name: m.name, key: m.key, role: m.role, online: m.online,
          ...(m.status ? { status: m.status } : {}), ...(m.tool ? { tool: m.tool } : {}), ...(m.typing ? { typing: true } : {}), ...(m.call ? { call: m.call } : {}),
        })));
        return;
      }
      const status = (m: MemberInfo) => [m.status ?? (m.online ? 'online' : 'offline'), m.tool ? `in ${safeLine(m.tool)}` : '', m.typing ? 'typing' : '', m.call ? 'in a call' : ''].filter(Boolean).join(', ');
      printTable(list.map((m) => [safeLine(m.name), m.role, status(m), m.key]), ['NAME', 'ROLE', 'STATUS', 'KEY']);
    });
}
