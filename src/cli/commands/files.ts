// `trellis files add|list|versions|get|rm|restore|policy`: the files of a workspace. Paths are
// resolved here, against the current directory, because the daemon only takes absolute paths.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AddResult, FileInfo, GetResult, VersionInfo } from '../../tools/files/files-service.ts';
import { connectApi, seg } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { formatTime, printJson, printLine, printTable, safeLine } from '../output.ts';
import { formatBytes, progressBar } from './files-progress.ts';

/** The daemon ends stalled transfers itself; this only guards against a daemon that hangs. */
const TRANSFER_TIMEOUT_MS = 24 * 3600_000;

interface Common { json?: boolean; progress?: boolean }

function version(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  if (/^[1-9][0-9]{0,15}$/.test(v)) return Number(v);
  if (/^[0-9a-f]{32}$/.test(v)) return v;
  throw new CliError(EXIT_USAGE, `"${safeLine(v).slice(0, 40)}" is not a version: give its number (1, 2, …) or its id (see \`trellis files versions WS NAME\`)`);
}

export function registerFiles(program: Command): void {
  const files = program.command('files').description('share files and folders in a workspace (versions, delete, restore)');

  files.command('add')
    .description('add a file or a folder (recursively); an existing name gets a new version')
    .argument('<ws>', 'workspace id or name')
    .argument('<path>', 'file or folder on this machine')
    .option('--as <name>', 'shared name (default: the file or folder name), e.g. docs/report.pdf')
    .option('--json', 'machine-readable output')
    .option('--no-progress', 'no progress bar')
    .action(async (ws: string, path: string, opts: Common & { as?: string }, cmd: Command) => {
      const api = connectApi(homeOf(cmd));
      const job = randomBytes(8).toString('hex');
      const bar = progressBar(api, job, 'adding ', opts.progress !== false && !opts.json);
      let r: AddResult;
      try {
        await bar.ready;
        r = await api.post<AddResult>(`/api/workspaces/${seg(ws)}/files/add`, { path: resolve(path), ...(opts.as !== undefined ? { as: opts.as } : {}), job }, { timeoutMs: TRANSFER_TIMEOUT_MS });
      } finally {
        bar.stop();
      }
      if (opts.json) { printJson(r); return; }
      for (const f of r.added) printLine(`added ${safeLine(f.name)} (version ${f.version}, ${formatBytes(f.size)})`);
      for (const s of r.skipped) process.stderr.write(`skipped ${safeLine(s.path)}: ${safeLine(s.reason)}\n`);
    });

  files.command('list')
    .description('list the files (current versions)')
    .argument('<ws>', 'workspace id or name')
    .option('--deleted', 'include deleted files')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean; deleted?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<FileInfo[]>(`/api/workspaces/${seg(ws)}/files${opts.deleted ? '?deleted=1' : ''}`);
      if (opts.json) { printJson(list); return; }
      if (list.length === 0) { printLine('no files yet: add one with `trellis files add WS PATH`'); return; }
      printTable(list.map((f) => [
        safeLine(f.name), f.deleted ? 'deleted' : formatBytes(f.size), `v${f.version}`, safeLine(f.authorName || f.author.slice(0, 8)), formatTime(f.time), f.local ? 'local' : '',
      ]), ['NAME', 'SIZE', 'VERSION', 'BY', 'TIME', 'HERE']);
    });

  files.command('versions')
    .description('list the versions of a file, oldest first')
    .argument('<ws>', 'workspace id or name')
    .argument('<name>', 'shared name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, name: string, opts: { json?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<VersionInfo[]>(`/api/workspaces/${seg(ws)}/files/versions?name=${encodeURIComponent(name)}`);
      if (opts.json) { printJson(list); return; }
      printTable(list.map((v) => [
        String(v.version), v.deleted ? 'deleted' : formatBytes(v.size), safeLine(v.authorName || v.author.slice(0, 8)), formatTime(v.time),
        v.restoredFrom !== undefined ? `restores v${v.restoredFrom}` : '', v.local ? 'local' : '', v.id,
      ]), ['VERSION', 'SIZE', 'BY', 'TIME', 'NOTE', 'HERE', 'ID']);
    });

  files.command('get')
    .description('fetch a file or a folder to this machine (resumes: chunks fetched before are not fetched again)')
    .argument('<ws>', 'workspace id or name')
    .argument('<name>', 'shared name of a file or folder')
    .argument('[dest]', 'where to write it; an existing folder receives it under its own name (default: the current folder)')
    .option('--rev <version>', 'an older version: its number or id (see `trellis files versions`)')
    .option('--force', 'overwrite existing files')
    .option('--json', 'machine-readable output')
    .option('--no-progress', 'no progress bar')
    .action(async (ws: string, name: string, dest: string | undefined, opts: Common & { rev?: string; force?: boolean }, cmd: Command) => {
      const v = version(opts.rev);
      const api = connectApi(homeOf(cmd));
      const job = randomBytes(8).toString('hex');
      const bar = progressBar(api, job, 'getting', opts.progress !== false && !opts.json);
      let r: GetResult;
      try {
        await bar.ready;
        r = await api.post<GetResult>(`/api/workspaces/${seg(ws)}/files/get`, {
          name, dest: resolve(dest ?? '.'), ...(v !== undefined ? { version: v } : {}), ...(opts.force ? { force: true } : {}), job,
        }, { timeoutMs: TRANSFER_TIMEOUT_MS });
      } finally {
        bar.stop();
      }
      if (opts.json) { printJson(r); return; }
      for (const f of r.files) printLine(`${safeLine(f.name)} (version ${f.version}, ${formatBytes(f.size)}) -> ${safeLine(f.path)}`);
      process.stderr.write(`${r.chunks} chunk(s): ${r.local} already here, ${r.fetched} fetched${r.corrupt > 0 ? `, ${r.corrupt} arrived corrupted and were fetched again` : ''}\n`);
    });

  files.command('rm')
    .description('delete a file or a folder (older versions stay retrievable; see restore)')
    .argument('<ws>', 'workspace id or name')
    .argument('<name>', 'shared name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, name: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await connectApi(homeOf(cmd)).post<{ removed: string[] }>(`/api/workspaces/${seg(ws)}/files/rm`, { name });
      if (opts.json) printJson(r);
      else for (const n of r.removed) printLine(`deleted ${safeLine(n)}`);
    });

  files.command('restore')
    .description('make an older version the current one (as a new version)')
    .argument('<ws>', 'workspace id or name')
    .argument('<name>', 'shared name')
    .argument('<version>', 'version number or id (see `trellis files versions`)')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, name: string, ver: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await connectApi(homeOf(cmd)).post<VersionInfo>(`/api/workspaces/${seg(ws)}/files/restore`, { name, version: version(ver) });
      if (opts.json) printJson(r);
      else printLine(`restored ${safeLine(name)} version ${r.restoredFrom ?? ver} as version ${r.version}`);
    });

  files.command('policy')
    .description('show or set how this device fetches the workspace\'s files: on-demand (default) or keep-all')
    .argument('<ws>', 'workspace id or name')
    .argument('[policy]', 'on-demand | keep-all')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, policy: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      if (policy !== undefined && policy !== 'on-demand' && policy !== 'keep-all') throw new CliError(EXIT_USAGE, `unknown policy "${safeLine(policy).slice(0, 40)}": use on-demand or keep-all`);
      const api = connectApi(homeOf(cmd));
      const path = `/api/workspaces/${seg(ws)}/files/policy`;
      const r = policy === undefined ? await api.get<{ policy: string }>(path) : await api.post<{ policy: string }>(path, { policy });
      if (opts.json) printJson(r);
      else printLine(r.policy);
    });
}
