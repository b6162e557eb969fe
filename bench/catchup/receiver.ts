// Child: the member who was offline. Three lives, each its own process:
// - join: joins by invitation while the workspace is tiny, then goes offline;
// - catchup (timed): starts its peer on the same home with the writer (behind the proxy) as its
//   bootstrap address and runs until it holds the writer's whole log and its document shows the
//   trace's end content;
// - reopen: starts again from disk alone and checks that the store reproduces the same text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { fileLog, main, params, peakRssMiB, send, startProfile, stopProfile } from './child-io.ts';
import { machineBusyMs } from './machine-load.ts';
import { tuneGcForStreaming } from '../../src/daemon/gc-tuning.ts';

// Started the way `trellis start` starts a daemon.
tuneGcForStreaming();

interface Params {
  mode: 'join' | 'catchup' | 'reopen';
  home: string;
  code?: string;
  bootstrap?: string;
  wsId?: string;
  docId?: string;
  writerKey?: string;
  targetSeq?: number;
  expectedPath?: string;
  timeoutMs?: number;
  /** catchup: profile the timed span into this file. */
  profilePath?: string;
}

/** Progress is polled on a 1 ms timer: ingestion runs in synchronous batches, so a timer fires
 * only between batches and costs nothing measurable, and the finish is seen within a tick. */
const POLL_MS = 1;

main(async () => {
  const p = params<Params>();
  const fileLogger = fileLog(join(p.home, 'peer.log'));
  if (p.mode === 'join') {
    createIdentity(p.home, 'receiver');
    const peer = await Peer.start({ home: p.home, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'], log: fileLogger });
    const ws = await peer.join(p.code!);
    const heads = peer.heads(ws.id);
    await peer.stop();
    await send({ type: 'joined', wsId: ws.id, heads });
    return;
  }

  const expected = readFileSync(p.expectedPath!, 'utf8');
  const wsId = p.wsId!;
  const writerKey = p.writerKey!;
  const target = p.targetSeq!;
  const textOf = (peer: Peer) => peer.doc(wsId, p.docId!).getText('text').toString();

  if (p.mode === 'reopen') {
    const t0 = performance.now();
    const peer = await Peer.start({ home: p.home, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'], log: fileLogger });
    // Peer.start rebuilds every workspace from the store before it touches the network, so what
    // we check here comes from disk alone.
    const seq = peer.heads(wsId)[writerKey] ?? 0;
    const ok = seq === target && textOf(peer) === expected;
    const ms = performance.now() - t0;
    await peer.stop();
    if (!ok) throw new Error(`reopened store holds seq ${seq} of ${target}, or its text differs from the trace's end content`);
    await send({ type: 'reopened', ms, rssMiB: peakRssMiB() });
    return;
  }

  // catchup. The connection time is taken from the net layer's log line, the one signal of it the
  // SDK gives without polling.
  let connectedAt = -1;
  const log = (line: string) => {
    if (connectedAt < 0 && line.startsWith('net: connected to ')) connectedAt = performance.now();
    fileLogger(line);
  };
  if (p.profilePath) await startProfile();
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const peer = await Peer.start({ home: p.home, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [p.bootstrap!], log });
  const startedAt = performance.now();
  const seq0 = peer.heads(wsId)[writerKey] ?? 0;
  let firstAt = -1;
  const doneAt = await new Promise<number>((resolve, reject) => {
    const deadline = t0 + (p.timeoutMs ?? 600_000);
    const timer = setInterval(() => {
      const now = performance.now();
      const seq = peer.heads(wsId)[writerKey] ?? 0;
      if (firstAt < 0 && seq > seq0) firstAt = now;
      if (seq >= target) {
        clearInterval(timer);
        if (textOf(peer) === expected) resolve(performance.now());
        else reject(new Error(`all ${target} entries arrived but the text differs from the trace's end content`));
      } else if (now > deadline) {
        clearInterval(timer);
        reject(new Error(`catch-up incomplete after ${Math.round((now - t0) / 1000)} s: seq ${seq} of ${target}`));
      }
    }, POLL_MS);
  });
  const cpu = process.cpuUsage(cpu0);
  const busy1 = machineBusyMs();
  if (p.profilePath) await stopProfile(p.profilePath);
  // Reported before stopping, so that the parent reads the proxy's byte counts at this moment.
  await send({
    type: 'done',
    totalMs: doneAt - t0,
    startMs: startedAt - t0,
    connectMs: connectedAt < 0 ? -1 : connectedAt - t0,
    firstEntriesMs: firstAt < 0 ? -1 : firstAt - t0,
    fromConnectMs: connectedAt < 0 ? -1 : doneAt - connectedAt,
    entries: target - seq0,
    rejected: peer.rejections(wsId).length,
    // CPU time close to the wall time means the receiver, not the network or the writer, is the limit.
    cpuMs: (cpu.user + cpu.system) / 1000,
    // CPU time of the whole machine over the same span (-1 off Linux): the parent subtracts ours.
    machineBusyMs: busy0 === undefined || busy1 === undefined ? -1 : busy1 - busy0,
    rssMiB: peakRssMiB(),
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  });
  await peer.stop();
});
