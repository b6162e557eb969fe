// `trellis history WS [--tool TOOL]`: who changed what and when, oldest first.
import type { Command } from 'commander';
import type { HistoryRow } from '../../tools/registry/history.ts';
import { connectApi, seg } from '../api-client.ts';
import { homeOf } from '../home.ts';
import { formatTime, printJson, printLine, printTable, safeLine } from '../output.ts';

export function registerHistory(program: Command): void {
  program.command('history')
    .description('list every change in a workspace with its author and time, oldest first')
    .argument('<ws>', 'workspace id or name')
    .option('--tool <tool>', 'only the changes to this tool (id or name)')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { tool?: string; json?: boolean }, cmd: Command) => {
      const api = connectApi(homeOf(cmd));
      const query = opts.tool === undefined ? '' : `?tool=${encodeURIComponent(opts.tool)}`;
      const rows = await api.get<HistoryRow[]>(`/api/workspaces/${seg(ws)}/history${query}`);
      if (opts.json) {
        printJson(rows.map((r) => ({ id: r.id, author: r.author, authorName: r.authorName, kind: r.kind, ...(r.tool === undefined ? {} : { tool: r.tool }), time: r.time })));
        return;
      }
      if (rows.length === 0) { printLine('no changes'); return; }
      const tools = new Map((await api.get<{ id: string; name: string }[]>(`/api/workspaces/${seg(ws)}/tools`)).map((t) => [t.id, t.name]));
      printTable(rows.map((r) => [
        formatTime(r.time), safeLine(r.authorName || r.author.slice(0, 12)), r.kind, r.tool === undefined ? '' : safeLine(tools.get(r.tool) ?? r.tool), r.id.replace(/^(.{12}).*:/, '$1…:'),
      ]), ['TIME', 'AUTHOR', 'KIND', 'TOOL', 'ENTRY']);
    });
}
