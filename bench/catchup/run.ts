// The catch-up benchmark (issue 2): an offline member catches up on the automerge-paper trace,
// one entry per edit, from one peer over libp2p on loopback, side by side with bare Yjs applying
// the same updates in memory.
//
// Usage: node bench/catchup/run.ts [--runs N] [--edits N] [--quiet-wait S] [--profile] [--no-results] [--keep]
//   --runs N      measured pairs (bare Yjs, then Trellis), default 3
//   --quiet-wait S  before each pair, wait up to S seconds (default 120) for other work on the
//                 machine to fall below a quarter of a core; each pair records how busy it was
//   --edits N     use only the first N edits (a quick check; nothing is written to RESULTS.md)
//   --rate MB/s   limit the writer -> receiver bandwidth in the relay, to try a slower link
//                 (nothing is written to RESULTS.md)
//   --profile     add one unmeasured catch-up under V8's profiler (receiver and writer) and summarise where the time goes
//   --no-results  print only, do not append to bench/RESULTS.md
//   --keep        keep the temporary homes and files
//
// Processes: this one builds the workload, runs the counting proxy and orchestrates; the writer,
// the receiver and the bare-Yjs reference each run in child processes of their own.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './children.ts';
import { formatSummary, summarise } from './profile.ts';
import { waitForQuiet } from './machine-load.ts';
import { CountingProxy } from './proxy.ts';
import { appendResults, consoleTable, machine, type CatchupFigures, type Figures, type RunFigures } from './report.ts';
import { buildWorkload, TRACE_EDITS, TRACE_PATH, writeUpdates } from './trace.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** Any 16-byte id does: the document is created by its first update. */
const DOC_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

interface Options { runs: number; edits: number; rateMBs: number; quietWaitS: number; profile: boolean; results: boolean; keep: boolean }

/** Other work above this many cores (average over a timed span) marks the span as disturbed. */
const QUIET_CORES = 0.25;

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 3, edits: Infinity, rateMBs: 0, quietWaitS: 120, profile: false, results: true, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min = 1) => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < min) throw new Error(`${a} needs an integer >= ${min}`);
      return n;
    };
    if (a === '--runs') o.runs = num();
    else if (a === '--edits') o.edits = num();
    else if (a === '--quiet-wait') o.quietWaitS = num(0);
    else if (a === '--rate') {
      o.rateMBs = Number(argv[++i]);
      if (!(o.rateMBs > 0)) throw new Error('--rate needs a positive number of MB/s');
    }
    else if (a === '--profile') o.profile = true;
    else if (a === '--no-results') o.results = false;
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown argument ${a} (see the usage at the top of bench/catchup/run.ts)`);
  }
  return o;
}

const say = (line: string) => process.stdout.write(line + '\n');
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'trellis-catchup-'));
  const cleanup = () => { if (!opts.keep) rmSync(dir, { recursive: true, force: true }); };
  process.on('exit', cleanup);
  const m = machine();
  say(`catch-up benchmark: ${m.cpus} CPUs (${m.model}), Node ${m.node}, load ${m.load}; work dir ${dir}`);

  // 1. The workload, checked against the trace's end content.
  let t = performance.now();
  const work = buildWorkload(TRACE_PATH, opts.edits);
  const buildMs = performance.now() - t;
  const fullTrace = !Number.isFinite(opts.edits);
  if (fullTrace && work.updates.length !== TRACE_EDITS) throw new Error(`expected ${TRACE_EDITS} edits, the trace has ${work.updates.length}`);
  const updatesPath = join(dir, 'updates.bin');
  const expectedPath = join(dir, 'expected.txt');
  writeUpdates(updatesPath, work.updates);
  writeFileSync(expectedPath, work.expected);
  const edits = work.updates.length;
  say(`workload: ${edits.toLocaleString('en-US')} updates (${(work.updateBytes / 1e6).toFixed(1)} MB) built in ${sec(buildMs)}; text checked`);
  work.updates.length = 0; // this process keeps only the proxy from here on

  // 2. Setup, not timed: the receiver joins while the workspace is tiny and goes offline; the
  //    writer then appends every update as its own entry.
  const writerHome = join(dir, 'writer');
  const receiverHome = join(dir, 'receiver');
  const setup = new Child('writer (setup)', './writer.ts', { mode: 'setup', home: writerHome });
  const invite = await setup.next<{ type: string; code: string; wsId: string; key: string }>('invite', MINUTE);
  t = performance.now();
  const joiner = new Child('receiver (join)', './receiver.ts', { mode: 'join', home: receiverHome, code: invite.code });
  await joiner.next('joined', 2 * MINUTE);
  await joiner.exited(MINUTE);
  const joinMs = performance.now() - t;
  say(`setup: receiver joined in ${sec(joinMs)} and went offline; writer appending…`);
  setup.send({ type: 'append', updatesPath, docId: DOC_ID, chunk: 10_000 });
  const appended = await setup.next<{ type: string; ms: number; seq: number; rssMiB: number }>('appended', 20 * MINUTE);
  await setup.exited(MINUTE);
  say(`setup: writer appended ${edits.toLocaleString('en-US')} entries in ${sec(appended.ms)} (head seq ${appended.seq})`);

  const writer = new Child('writer (serve)', './writer.ts', { mode: 'serve', home: writerHome, wsId: invite.wsId });
  const ready = await writer.next<{ type: string; addrs: string[]; peerId: string; startMs: number; heads: Record<string, number> }>('ready', 5 * MINUTE);
  if (ready.heads[invite.key] !== appended.seq) throw new Error(`the restarted writer holds seq ${ready.heads[invite.key]}, not ${appended.seq}`);
  const tcp = ready.addrs.map((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\//.exec(a)).find((x) => x !== null);
  if (!tcp) throw new Error(`the writer has no loopback TCP address: ${ready.addrs.join(' ')}`);
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: Number(tcp[1]) }, opts.rateMBs * 1e6);
  const bootstrap = `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${ready.peerId}`;
  say(`writer restarted in ${sec(ready.startMs)}; proxy ${proxy.port} -> ${tcp[1]}${opts.rateMBs ? `, limited to ${opts.rateMBs} MB/s` : ''}`);

  // 3. Measured pairs. Each catch-up starts from a copy of the offline receiver's home, so every
  //    run catches up on the same history from the same state.
  const snapshot = join(dir, 'receiver-offline');
  cpSync(receiverHome, snapshot, { recursive: true });
  const common = { wsId: invite.wsId, docId: DOC_ID, writerKey: invite.key, targetSeq: appended.seq, expectedPath };

  const writerCpu = async () => {
    writer.send({ type: 'cpu' });
    return (await writer.next<{ type: string; ms: number }>('cpu', 30 * SECOND)).ms;
  };
  const catchup = async (home: string, profilePath?: string) => {
    rmSync(home, { recursive: true, force: true });
    cpSync(snapshot, home, { recursive: true });
    await waitUntil(() => proxy.counters.open === 0, 30 * SECOND, 'the previous connection to close');
    proxy.reset();
    const writerCpu0 = await writerCpu();
    // This process relays every byte: its CPU time is taken from the same two cores.
    const relay0 = process.cpuUsage();
    const rc = new Child('receiver (catch-up)', './receiver.ts', { mode: 'catchup', home, bootstrap, timeoutMs: 10 * MINUTE, profilePath, ...common });
    const done = await rc.next<CatchupFigures & { type: string; rejected: number }>('done', 11 * MINUTE);
    const relay = process.cpuUsage(relay0);
    const bytes = { ...proxy.counters };
    const cpu = { writerMs: (await writerCpu()) - writerCpu0, relayMs: (relay.user + relay.system) / 1000 };
    await rc.exited(MINUTE);
    if (done.rejected > 0) throw new Error(`the receiver rejected ${done.rejected} entries`);
    return { done, bytes, cpu };
  };

  const runs: RunFigures[] = [];
  for (let i = 0; i < opts.runs; i++) {
    await waitForQuiet(QUIET_CORES, opts.quietWaitS * SECOND, say);
    const b = new Child('bare Yjs', './baseline.ts', { updatesPath, expectedPath });
    const base = await b.next<{ type: string; ms: number; otherMs: number; rssMiB: number }>('result', 5 * MINUTE);
    await b.exited(MINUTE);
    const home = join(dir, `receiver-run${i + 1}`);
    const { done, bytes, cpu } = await catchup(home);
    const ro = new Child('receiver (reopen)', './receiver.ts', { mode: 'reopen', home, ...common });
    const reopened = await ro.next<{ type: string; ms: number; rssMiB: number }>('reopened', 5 * MINUTE);
    await ro.exited(MINUTE);
    if (!opts.keep) rmSync(home, { recursive: true, force: true });
    const { type: _t, rejected: _r, ...figures } = done;
    const other = done.machineBusyMs < 0 ? -1 : Math.max(0, done.machineBusyMs - done.cpuMs - cpu.writerMs - cpu.relayMs);
    runs.push({
      baselineMs: base.ms, baselineRssMiB: base.rssMiB, catchup: figures,
      baselineOtherCores: base.otherMs < 0 ? -1 : base.otherMs / base.ms,
      catchupOtherCores: other < 0 ? -1 : other / done.totalMs,
      bytesDown: bytes.down, bytesUp: bytes.up, connections: bytes.connections,
      reopenMs: reopened.ms, reopenRssMiB: reopened.rssMiB, writerCpuMs: cpu.writerMs, relayCpuMs: cpu.relayMs,
    });
    const r = runs[runs.length - 1];
    say(`run ${i + 1}: bare Yjs ${sec(base.ms)}, Trellis ${sec(done.totalMs)}, ratio ${(done.totalMs / base.ms).toFixed(2)}; other work ${r.baselineOtherCores.toFixed(2)} / ${r.catchupOtherCores.toFixed(2)} cores`);
  }

  // 4. Optional profiles of both sides, in a catch-up of their own (profiling slows it down).
  let profile: string | undefined;
  if (opts.profile) {
    await waitForQuiet(QUIET_CORES, opts.quietWaitS * SECOND, say);
    const receiverProf = join(dir, 'receiver.cpuprofile');
    const writerProf = join(dir, 'writer.cpuprofile');
    writer.send({ type: 'profile-start' });
    await writer.next('profiling', 30 * SECOND);
    const { done, cpu } = await catchup(join(dir, 'receiver-profiled'), receiverProf);
    writer.send({ type: 'profile-stop', path: writerProf });
    await writer.next('profiled', MINUTE);
    profile = [
      `catch-up under the profiler: ${sec(done.totalMs)}; CPU receiver ${sec(done.cpuMs)}, writer ${sec(cpu.writerMs)}`,
      '', '-- receiver --', formatSummary(summarise(receiverProf, 25)),
      '', '-- writer (serving) --', formatSummary(summarise(writerProf, 12)),
    ].join('\n');
    say('');
    say(profile);
    if (opts.keep) say(`profiles: ${receiverProf} ${writerProf}`);
  }

  writer.send({ type: 'stop' });
  const stopped = await writer.next<{ type: string; rssMiB: number }>('stopped', MINUTE);
  await writer.exited(MINUTE);
  await proxy.stop();

  const figures: Figures = {
    date: new Date().toISOString(), edits, updateBytes: work.updateBytes, fullTrace,
    setup: { buildMs, joinMs, appendMs: appended.ms, writerAppendRssMiB: appended.rssMiB, writerStartMs: ready.startMs },
    writerServeRssMiB: stopped.rssMiB, runs, ...(profile ? { profile } : {}),
  };
  say(consoleTable(figures));
  if (opts.results && fullTrace && !opts.rateMBs) {
    appendResults(RESULTS, figures, m);
    say(`\nappended to ${RESULTS}`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`catch-up benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
