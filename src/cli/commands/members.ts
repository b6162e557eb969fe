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
        printJson(list.map((m) => ({ name: m.name, key: m.key, role: m.role, online: m.online })));
        return;
      }
      printTable(list.map((m) => [safeLine(m.name), m.role, m.online ? 'online' : 'offline', m.key]), ['NAME', 'ROLE', 'STATUS', 'KEY']);
    });
}
