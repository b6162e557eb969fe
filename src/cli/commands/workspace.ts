// `trellis workspace create NAME`, `trellis workspace list` and `trellis workspace delete WS`.
import type { Command } from 'commander';
import { MAX_NAME_CHARS, type WorkspaceInfo } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { printJson, printLine, printTable, safeLine } from '../output.ts';
import { WORKSPACE_HINT } from './invitations.ts';

export function registerWorkspace(program: Command): void {
  const ws = program.command('workspace').description('create, list and delete workspaces');

  ws.command('create')
    .description('create a workspace; you become its manager')
    .argument('<name>', `workspace name (at most ${MAX_NAME_CHARS} characters)`)
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const clean = name.trim();
      if (clean === '') throw new CliError(EXIT_USAGE, 'the workspace name must not be empty');
      if (clean.length > MAX_NAME_CHARS) throw new CliError(EXIT_USAGE, `the workspace name is longer than ${MAX_NAME_CHARS} characters: choose a shorter one`);
      const { id } = await connectApi(homeOf(cmd)).post<{ id: string }>('/api/workspaces', { name: clean });
      if (opts.json) printJson({ id });
      else printLine(`created workspace "${safeLine(clean)}" ${id}`);
    });

  ws.command('list')
    .description('list the workspaces this peer belongs to')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<WorkspaceInfo[]>('/api/workspaces');
      if (opts.json) {
        printJson(list.map((w) => ({ id: w.id, name: w.name, role: w.role, members: w.members })));
      } else if (list.length === 0) {
        printLine('no workspaces yet: create one with `trellis workspace create NAME` or join one with `trellis join CODE`');
      } else {
        printTable(list.map((w) => [w.id, safeLine(w.name), w.role, String(w.members)]), ['ID', 'NAME', 'ROLE', 'MEMBERS']);
      }
    });

  ws.command('delete')
    .description('delete a workspace from this device (its history, keys and files here) once you have left it or were removed')
    .argument('<ws>', 'workspace id or name')
    .option('--force', 'delete it even though no member or relay has your leave yet')
    .option('--json', 'machine-readable output')
    .action(async (wsArg: string, opts: { force?: boolean; json?: boolean }, cmd: Command) => {
      const r = await connectApi(homeOf(cmd)).delete<{ deleted: string }>(
        `/api/workspaces/${seg(wsArg)}${opts.force ? '?force=true' : ''}`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson({ deleted: r.deleted });
      else printLine(`deleted ${safeLine(wsArg)} (${r.deleted}) from this device`);
    });
}
