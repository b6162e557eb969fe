// A Trellis peer for the benchmark: a real Peer (SQLite, libp2p, the files tool) in its own
// process, driven by the parent: create a workspace and invite, join, add a file, get it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createIdentity } from '../../src/store/identity-file.ts';
import { Peer } from '../../src/peer.ts';
import { tuneGcForStreaming } from '../../src/daemon/gc-tuning.ts';
import { gcCounts, gcDelta, watchGc } from './gc.ts';
import { params, send, serve } from './ipc.ts';
import { threadDelta, threadTimes } from './threads.ts';

const p = params<{ home: string; name: string; bootstrap: string[] }>();
// Started the way `trellis start` starts a daemon.
tuneGcForStreaming();
createIdentity(p.home, p.name);
watchGc();
const logs: string[] = [];
const peer = await Peer.start({ home: p.home, mdns: false, bootstrap: p.bootstrap, log: (l) => { logs.push(l); if (logs.length > 1000) logs.shift(); } });
let ws = '';
let session: Session | undefined;

serve(async (m) => {
  switch (m.type) {
    case 'create': {
      ws = (await peer.createWorkspace('Bench')).id;
      await send({ type: 'invite', code: await peer.createInvite(ws, { role: 'participant' }), addr: peer.status().addrs[0] });
      break;
    }
    case 'create-invite': {
      await send({ type: 'invite', code: await peer.createInvite(ws, { role: 'participant' }), addr: peer.status().addrs[0] });
      break;
    }
    case 'join': {
      ws = (await peer.join(String(m.code))).id;
      await send({ type: 'joined' });
      break;
    }
    case 'add': {
      const t0 = performance.now();
      const r = await peer.files.add(ws, String(m.path), { as: String(m.name) });
      await send({ type: 'added', ms: performance.now() - t0, chunks: r.added[0].chunks });
      break;
    }
    case 'get': {
      while (!peer.files.list(ws).some((f) => f.name === m.name)) await new Promise((r) => setTimeout(r, 20));
      const t0 = performance.now();
      const cpu = process.cpuUsage();
      const threads = threadTimes();
      const gc = gcCounts();
      const r = await peer.files.get(ws, String(m.name), String(m.dest), { force: true });
      const ms = performance.now() - t0;
      const used = process.cpuUsage(cpu);
      await send({ type: 'got', ms, cpuMs: (used.user + used.system) / 1000, threads: threadDelta(threads), gc: gcDelta(gc), fetched: r.fetched, local: r.local, rssMiB: process.resourceUsage().maxRSS / 1024 });
      break;
    }
    case 'profile-start': {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await send({ type: 'profiling' });
      break;
    }
    case 'profile-stop': {
      const { profile } = await session!.post('Profiler.stop');
      writeFileSync(String(m.path), JSON.stringify(profile));
      session!.disconnect();
      await send({ type: 'profiled' });
      break;
    }
    case 'cpu': {
      const u = process.cpuUsage();
      await send({ type: 'cpu', ms: (u.user + u.system) / 1000, threads: [...threadTimes()], gc: gcCounts() });
      break;
    }
    case 'stop':
      await peer.stop();
      break;
    default: throw new Error(`unknown command ${m.type}`);
  }
});
