// `trellis tool add|list|rm` (a workspace's tool list) and, for every tool type, its command group
// (`trellis notes …`, `trellis tasks …`, …) built from the commands the tool declares. Each tool
// command takes WS and TOOL first and talks to /api/workspaces/WS/tools/TOOL. Only the tools'
// light `*-cli.ts` modules are loaded here (see tools/registry/tool-infos.ts).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TOOL_INFOS } from '../../tools/registry/tool-infos.ts';
import type { ToolCli, ToolInfo } from '../../tools/tool.ts';
import { connectApi, seg, type ApiClient } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { formatTime, printJson, printLine, printTable, safe, safeLine } from '../output.ts';

interface ToolJson { id: string; type: string; name: string }

export function registerTools(program: Command): void {
  const types = TOOL_INFOS.map((t) => t.type).join(', ');
  const tool = program.command('tool').description('add, list and remove the tools of a workspace');

  tool.command('add')
    .description('add a tool to a workspace (managers only); prints its id')
    .argument('<ws>', 'workspace id or name')
    .argument('<type>', `tool type: ${types}`)
    .argument('<name...>', 'name of the new tool (several words are joined)')
    .option('--json', 'print {"id"} as JSON')
    .action(async (ws: string, type: string, name: string[], opts: { json?: boolean }, cmd: Command) => {
      const t = await connectApi(homeOf(cmd)).post<ToolJson>(`/api/workspaces/${seg(ws)}/tools`, { type, name: name.join(' ') });
      if (opts.json) printJson({ id: t.id });
      else printLine(t.id);
    });

  tool.command('list')
    .description('list the tools of a workspace')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<ToolJson[]>(`/api/workspaces/${seg(ws)}/tools`);
      if (opts.json) printJson(list.map((t) => ({ id: t.id, type: t.type, name: t.name })));
      else if (list.length === 0) printLine('no tools yet: a manager adds one with `trellis tool add WS TYPE NAME`');
      else printTable(list.map((t) => [t.id, t.type, safeLine(t.name)]), ['ID', 'TYPE', 'NAME']);
    });

  tool.command('rm')
    .description('remove a tool from a workspace (managers only; its history stays)')
    .argument('<ws>', 'workspace id or name')
    .argument('<tool>', 'tool id or name')
    .option('--json', 'print {"id"} of the removed tool as JSON')
    .action(async (ws: string, ref: string, opts: { json?: boolean }, cmd: Command) => {
      const t = await connectApi(homeOf(cmd)).post<ToolJson>(`/api/workspaces/${seg(ws)}/tools/${seg(ref)}/remove`, {});
      if (opts.json) printJson({ id: t.id });
    });

  for (const t of TOOL_INFOS) registerToolType(program, t);
}

function registerToolType(program: Command, tool: ToolInfo): void {
  const group = program.command(tool.type).description(tool.description);
  for (const c of tool.commands) {
    const sub = group.command(c.name).description(c.description)
      .argument('<ws>', 'workspace id or name')
      .argument('<tool>', `${tool.type} tool id or name`);
    for (const a of c.args ?? []) {
      const name = a.variadic ? `${a.name}...` : a.name;
      sub.argument(a.optional ? `[${name}]` : `<${name}>`, a.description);
    }
    for (const o of c.options ?? []) {
      if (o.repeatable) sub.option(o.flags, o.description, (v: string, prev: string[]) => [...prev, v], [] as string[]);
      else sub.option(o.flags, o.description);
    }
    sub.action(async (...all: unknown[]) => {
      const cmd = all[all.length - 1] as Command;
      const opts = all[all.length - 2] as Record<string, unknown>;
      const [ws, ref, ...args] = all.slice(0, -2) as (string | string[] | undefined)[];
      await c.run(toolCli(homeOf(cmd), ws as string, ref as string), args, opts);
    });
  }
}

function toolCli(home: string, ws: string, ref: string): ToolCli {
  let client: ApiClient | undefined;
  const api = () => (client ??= connectApi(home));
  const base = `/api/workspaces/${seg(ws)}/tools/${seg(ref)}`;
  const fail = (message: string): never => { throw new CliError(EXIT_USAGE, message); };
  return {
    get<T>(path: string, query: Record<string, string | undefined> = {}) {
      const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
      return api().get<T>(base + path + (q === '' ? '' : `?${q}`));
    },
    post<T>(path: string, body: unknown) {
      return api().post<T>(base + path, body);
    },
    readText(file: string, maxBytes: number): string {
      let size: number;
      try {
        const st = statSync(file);
        if (!st.isFile()) fail(`${file} is not a file`);
        size = st.size;
      } catch (err) {
        if (err instanceof CliError) throw err;
        return fail(`cannot read ${file}: ${describeFsError(err)}`);
      }
      if (size > maxBytes) fail(`${file} is ${size} bytes; the limit is ${maxBytes} bytes`);
      let bytes: Buffer;
      try { bytes = readFileSync(file); } catch (err) { return fail(`cannot read ${file}: ${describeFsError(err)}`); }
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return fail(`${file} is not UTF-8 text`);
      }
    },
    writeText(file: string, text: string): void {
      try { writeFileSync(file, text); } catch (err) { fail(`cannot write ${file}: ${describeFsError(err)}`); }
    },
    print: (text: string) => printLine(safe(text)),
    table: (rows: string[][], header: string[]) => printTable(rows.map((r) => r.map(safeLine)), header),
    json: printJson,
    time: formatTime,
    fail,
  };
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (err as Error).message.split('\n')[0];
}
