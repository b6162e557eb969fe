// A bare libp2p node (the same TCP + Noise + Yamux stack and V8 settings as a Trellis peer, src/net/libp2p-node.ts)
// for the baseline: the receiver counts bytes of one stream; the sender pushes `bytes` through it
// in 256 KiB writes, awaiting each (the same back-pressure a chunk server gets).
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode, type NetNode } from '../../src/net/libp2p-node.ts';
import { tuneGcForStreaming } from '../../src/daemon/gc-tuning.ts';
import { gcCounts, gcDelta, watchGc } from './gc.ts';
import { send, serve } from './ipc.ts';
import { threadDelta, threadTimes } from './threads.ts';

const PROTOCOL = '/trellis-bench/raw/1.0.0';
const PIECE = 256 * 1024;
let node: NetNode | undefined;
// The same V8 settings as a Trellis daemon (and the bench's peers): the baseline gets every
// runtime advantage the peers get.
tuneGcForStreaming();
watchGc();

serve(async (m) => {
  switch (m.type) {
    case 'listen': {
      node = await createNetNode({ signingSecretKey: signingKeyPair().secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
      await node.handle(PROTOCOL, (stream) => {
        void (async () => {
          let n = 0;
          const cpu = process.cpuUsage();
          const threads = threadTimes();
          const gc = gcCounts();
          for await (const c of stream) n += c.byteLength;
          const used = process.cpuUsage(cpu);
          await send({ type: 'received', bytes: n, cpuMs: (used.user + used.system) / 1000, threads: threadDelta(threads), gc: gcDelta(gc) });
        })();
      });
      await send({ type: 'listening', addr: node.addrs()[0] });
      break;
    }
    case 'dial': {
      node ??= await createNetNode({ signingSecretKey: signingKeyPair().secretKey, listen: [], bootstrap: [], mdns: false, log: () => {} });
      await node.dial(String(m.addr));
      await send({ type: 'dialled' });
      break;
    }
    case 'push': {
      if (!node) throw new Error('dial first');
      const cpu = process.cpuUsage();
      const threads = threadTimes();
      const gc = gcCounts();
      const { stream } = await node.openStream(String(m.addr), PROTOCOL);
      const total = Number(m.bytes);
      // Fresh buffers: the stream references what it is given until the muxer has sent it.
      for (let sent = 0; sent < total; sent += PIECE) await stream.write(Buffer.allocUnsafe(Math.min(PIECE, total - sent)));
      await stream.close();
      const used = process.cpuUsage(cpu);
      await send({ type: 'pushed', cpuMs: (used.user + used.system) / 1000, threads: threadDelta(threads), gc: gcDelta(gc) });
      break;
    }
    case 'stop':
      await node?.stop();
      break;
    default: throw new Error(`unknown command ${m.type}`);
  }
});
