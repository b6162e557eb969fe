// `trellis history WS [--tool TOOL]`: who changed what and when, oldest first.
// `trellis verify WS`: every signature and hash chain re-checked, and the history's fingerprint.
import type { Command } from 'commander';
import type { HistoryVerification } from '../../peer-api.ts';
import type { HistoryRow } from '../../tools/registry/history.ts';
import { connectApi, seg } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
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

  program.command('verify')
    .description('re-check every signature and hash chain of a workspace\'s history, and print its fingerprint (the same on two devices = the same history)')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const v = await connectApi(homeOf(cmd)).get<HistoryVerification>(`/api/workspaces/${seg(ws)}/verify`);
      if (opts.json) printJson(v);
      else {
        const people = new Set(v.authors.map((a) => a.name)).size;
        printLine(v.problems.length === 0
          ? `verified ${v.entries} entries by ${v.authors.length} author(s) (${people} ${people === 1 ? 'person' : 'people'}): every signature, hash chain and dependency holds`
          : `checked ${v.entries} entries: ${v.problems.length} problem(s)`);
        for (const p of v.problems) printLine(`  ${p.kind}: ${p.author ? `${p.author.slice(0, 12)}… entry ${p.seq}: ` : ''}${safeLine(p.detail)}`);
        if (v.forks > 0) printLine(`${v.forks} author(s) forked their log (signed two entries at one seq); what they wrote from there on is void`);
        printLine(`fingerprint ${v.fingerprint.match(/.{1,8}/g)!.join(' ')}`);
        printLine('another member whose `trellis verify` prints the same fingerprint holds the very same history');
      }
      if (v.problems.length > 0) throw new CliError(1, `the history of ${safeLine(ws)} did not verify`);
    });
}
