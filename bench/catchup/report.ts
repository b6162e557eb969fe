// Formats the figures: a side-by-side table on the console and a dated section in bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface CatchupFigures {
  totalMs: number;
  startMs: number;
  connectMs: number;
  firstEntriesMs: number;
  fromConnectMs: number;
  entries: number;
  rssMiB: number;
  heapMiB: number;
  /** The receiver's CPU time (user + system) over the same span as totalMs. */
  cpuMs: number;
  /** The whole machine's busy CPU time over that span; -1 when unknown. */
  machineBusyMs: number;
}

export interface RunFigures {
  baselineMs: number;
  baselineRssMiB: number;
  catchup: CatchupFigures;
  /** Writer → receiver and receiver → writer, bytes through the proxy. */
  bytesDown: number;
  bytesUp: number;
  connections: number;
  reopenMs: number;
  reopenRssMiB: number;
  /** CPU time of the writer and of the relay (this process) during the catch-up. */
  writerCpuMs: number;
  relayCpuMs: number;
  /** Cores kept busy by other work, on average, during each timed span; -1 when unknown. */
  baselineOtherCores: number;
  catchupOtherCores: number;
}

/** Other work above this many cores during either timed span marks a pair as disturbed. */
export const DISTURBED_CORES = 0.25;
const disturbed = (r: RunFigures) => r.baselineOtherCores > DISTURBED_CORES || r.catchupOtherCores > DISTURBED_CORES;

export interface Figures {
  date: string;
  edits: number;
  updateBytes: number;
  fullTrace: boolean;
  setup: { buildMs: number; joinMs: number; appendMs: number; writerAppendRssMiB: number; writerStartMs: number };
  writerServeRssMiB: number;
  runs: RunFigures[];
  profile?: string;
}

export interface Machine {
  cpus: string;
  model: string;
  ramGiB: number;
  node: string;
  yjs: string;
  commit: string;
  load: string;
}

function tryRun(cmd: string, args: string[]): string | undefined {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return undefined; }
}

export function machine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch { /* not Linux: keep os.cpus() */ }
  const yjsPkg = new URL('../../node_modules/yjs/package.json', import.meta.url);
  const commit = tryRun('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['status', '--porcelain', '--', 'src']);
  return {
    cpus: tryRun('nproc', []) ?? String(cpus().length),
    model,
    ramGiB: totalmem() / 2 ** 30,
    node: process.version,
    yjs: (JSON.parse(readFileSync(yjsPkg, 'utf8')) as { version: string }).version,
    commit: commit ? `${commit}${dirty ? ' (src/ has uncommitted changes)' : ''}` : 'unknown',
    // Other work on the machine skews the figures: the load at the start says how busy it was.
    load: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const mib = (m: number) => `${m.toFixed(0)} MiB`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (r: RunFigures) => r.catchup.totalMs / r.baselineMs;
const cores = (c: number) => (c < 0 ? 'unknown' : `${c.toFixed(2)} cores`);

/** Median ratio of the undisturbed pairs, or of all if every pair was disturbed. */
function medianRatio(runs: RunFigures[]): { value: number; of: string } {
  const quiet = runs.filter((r) => !disturbed(r));
  const use = quiet.length > 0 ? quiet : runs;
  return { value: median(use.map(ratio)), of: quiet.length > 0 ? `${quiet.length} undisturbed pair(s) of ${runs.length}` : `all ${runs.length} pairs, every one disturbed` };
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

export function consoleTable(f: Figures): string {
  const out: string[] = [];
  const row = (label: string, a: string, b: string) => out.push(`  ${label.padEnd(26)}${a.padEnd(24)}${b}`);
  f.runs.forEach((r, i) => {
    const c = r.catchup;
    out.push('', `run ${i + 1} of ${f.runs.length}`);
    row('', 'bare Yjs, in memory', 'Trellis catch-up, libp2p on loopback');
    row('time', s(r.baselineMs), `${s(c.totalMs)}   ratio ${ratio(r).toFixed(2)}`);
    row('  of which', '', `start ${s(c.startMs)}, connected at ${s(c.connectMs)}, first entries at ${s(c.firstEntriesMs)}`);
    row('  from connection', '', `${s(c.fromConnectMs)}   ratio ${(c.fromConnectMs / r.baselineMs).toFixed(2)}`);
    row('updates or entries / s', int(f.edits / (r.baselineMs / 1000)), int(c.entries / (c.totalMs / 1000)));
    row('bytes on the wire', '0 (in memory)', `${mb(r.bytesDown + r.bytesUp)} (to receiver ${mb(r.bytesDown)}, back ${mb(r.bytesUp)}, ${r.connections} connection(s))`);
    row('peak RSS', mib(r.baselineRssMiB), `receiver ${mib(c.rssMiB)} (heap in use at the end ${mib(c.heapMiB)})`);
    row('CPU time', '', `receiver ${s(c.cpuMs)}, writer ${s(r.writerCpuMs)}, relay ${s(r.relayCpuMs)}`);
    row('other work on the machine', cores(r.baselineOtherCores), `${cores(r.catchupOtherCores)}${disturbed(r) ? '   DISTURBED' : ''}`);
    row('reopen from disk', '', `${s(r.reopenMs)} (peak RSS ${mib(r.reopenRssMiB)})`);
  });
  const rs = f.runs.map(ratio);
  const med = medianRatio(f.runs);
  out.push('', `ratio (Trellis catch-up / bare Yjs): ${rs.map((x) => x.toFixed(2)).join(', ')}; median ${med.value.toFixed(2)} (${med.of}); target <= 2.0 (long term <= 1.5)`);
  out.push(`writer: ${int(f.edits)} entries appended in ${s(f.setup.appendMs)} (peak RSS ${mib(f.setup.writerAppendRssMiB)}); serving peak RSS ${mib(f.writerServeRssMiB)}`);
  return out.join('\n');
}

const HEADER = `# Benchmark results

Appended by \`npm run bench:catchup\` (bench/catchup/run.ts); newest last. Each run pairs bare Yjs
applying the per-edit updates one by one in memory with a Trellis peer catching up on the same
updates as entries from another peer over libp2p on loopback (verified, decrypted, applied,
persisted). Both start in fresh processes, with inputs loaded and modules imported before the
clock starts; the Trellis time runs from \`Peer.start\` until the receiver holds the writer's whole
log and its document equals the trace's end content. Bytes are counted by a TCP relay between the
two peers, both directions. Peak RSS is \`process.resourceUsage().maxRSS\` of each process.
`;

export function appendResults(path: string, f: Figures, m: Machine): void {
  if (!existsSync(path)) writeFileSync(path, HEADER);
  const lines: string[] = [];
  lines.push('', `## ${f.date.slice(0, 10)}: catch-up, ${f.fullTrace ? 'automerge-paper' : 'automerge-paper (shortened)'}, ${int(f.edits)} edits (${f.date})`, '');
  lines.push(`Machine: ${m.cpus} CPUs (${m.model}), ${m.ramGiB.toFixed(1)} GiB RAM, Node ${m.node}, Yjs ${m.yjs}, commit ${m.commit}, load average at start ${m.load}.`);
  lines.push(`Workload: ${int(f.edits)} Yjs v1 updates, ${mb(f.updateBytes)} in all; one entry each, one author.`);
  lines.push(`Setup (not timed): trace replay ${s(f.setup.buildMs)}; join ${s(f.setup.joinMs)}; the writer appends ${int(f.edits)} entries in ${s(f.setup.appendMs)} (peak RSS ${mib(f.setup.writerAppendRssMiB)}) and restarts in ${s(f.setup.writerStartMs)}; writer peak RSS while serving ${mib(f.writerServeRssMiB)}.`);
  lines.push('');
  lines.push('| run | bare Yjs | Trellis catch-up | ratio | from connection (ratio) | entries/s | bytes on the wire (to receiver / back) | peak RSS bare Yjs | peak RSS receiver | CPU receiver / writer / relay | reopen from disk (peak RSS) | other work (cores) |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  f.runs.forEach((r, i) => {
    const c = r.catchup;
    lines.push(`| ${i + 1} | ${s(r.baselineMs)} | ${s(c.totalMs)} | **${ratio(r).toFixed(2)}** | ${s(c.fromConnectMs)} (${(c.fromConnectMs / r.baselineMs).toFixed(2)}) | ${int(c.entries / (c.totalMs / 1000))} | ${mb(r.bytesDown + r.bytesUp)} (${mb(r.bytesDown)} / ${mb(r.bytesUp)}) | ${mib(r.baselineRssMiB)} | ${mib(c.rssMiB)} | ${s(c.cpuMs)} / ${s(r.writerCpuMs)} / ${s(r.relayCpuMs)} | ${s(r.reopenMs)} (${mib(r.reopenRssMiB)}) | ${r.baselineOtherCores.toFixed(2)} / ${r.catchupOtherCores.toFixed(2)}${disturbed(r) ? ' disturbed' : ''} |`);
  });
  const med = medianRatio(f.runs);
  lines.push('', `Ratio median ${med.value.toFixed(2)} (${med.of}; target <= 2.0, long term <= 1.5). "Other work" is the CPU time other processes took during each timed span (bare Yjs / catch-up), in cores on average; above ${DISTURBED_CORES} the pair is marked disturbed and left out of the median.`);
  if (f.profile) lines.push('', 'Profiles (a separate, unmeasured catch-up under V8\'s sampling profiler, 0.5 ms interval):', '', '```', f.profile, '```');
  appendFileSync(path, lines.join('\n') + '\n');
}
