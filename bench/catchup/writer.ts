// Child: the member who stays online and writes. Two lives, each its own process:
// - setup: creates the workspace and an invitation, waits while the receiver joins, then writes
//   every update as its own entry (through the SDK, as an editor's peer would) and exits;
// - serve: restarts the peer on the same home and a fresh port and serves until told to stop.
//   The fresh port means the receiver can reach it only through the counting proxy, and the fresh
//   process means its peak RSS is that of serving, not of writing.
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { command, fileLog, main, params, peakRssMiB, send, startProfile, stopProfile } from './child-io.ts';
import { readUpdates } from './trace.ts';
import { tuneGcForStreaming } from '../../src/daemon/gc-tuning.ts';

// Started the way `trellis start` starts a daemon.
tuneGcForStreaming();

interface Params {
  mode: 'setup' | 'serve';
  home: string;
  /** serve: the workspace whose heads it reports. */
  wsId?: string;
}

const MINUTE = 60_000;

main(async () => {
  const p = params<Params>();
  const log = fileLog(join(p.home, 'peer.log'));
  if (p.mode === 'setup') {
    createIdentity(p.home, 'writer');
    const peer = await Peer.start({ home: p.home, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'], log });
    const ws = await peer.createWorkspace('catch-up bench');
    const code = await peer.createInvite(ws.id, { role: 'participant', expiresInMs: 3600_000 });
    await send({ type: 'invite', code, wsId: ws.id, key: peer.keyHex });
    const cmd = await command('append', 10 * MINUTE);
    const updates = readUpdates(String(cmd.updatesPath));
    const chunk = Number(cmd.chunk ?? 10_000);
    const t0 = performance.now();
    for (let i = 0; i < updates.length; i += chunk) {
      peer.appendDocUpdates(ws.id, String(cmd.docId), updates.slice(i, i + chunk));
      // Let the node answer pings and close the receiver's old connection between chunks.
      await new Promise((r) => setImmediate(r));
    }
    const ms = performance.now() - t0;
    const seq = peer.heads(ws.id)[peer.keyHex];
    await peer.stop();
    await send({ type: 'appended', ms, seq, rssMiB: peakRssMiB() });
    return;
  }
  const t0 = performance.now();
  const peer = await Peer.start({ home: p.home, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'], log });
  const startMs = performance.now() - t0;
  const st = peer.status();
  await send({ type: 'ready', addrs: st.addrs, peerId: st.peerId, startMs, heads: peer.heads(p.wsId!), rssMiB: peakRssMiB() });
  // The parent asks for CPU time around each catch-up, to see how busy serving keeps the writer,
  // and may have one catch-up profiled on this side too.
  for (;;) {
    const cmd = await command(['stop', 'cpu', 'profile-start', 'profile-stop'], 60 * MINUTE);
    if (cmd.type === 'stop') break;
    if (cmd.type === 'cpu') {
      const c = process.cpuUsage();
      await send({ type: 'cpu', ms: (c.user + c.system) / 1000 });
    } else if (cmd.type === 'profile-start') {
      await startProfile();
      await send({ type: 'profiling' });
    } else {
      await stopProfile(String(cmd.path));
      await send({ type: 'profiled' });
    }
  }
  const rssMiB = peakRssMiB();
  await peer.stop();
  await send({ type: 'stopped', rssMiB });
});
