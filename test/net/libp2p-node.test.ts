// Real libp2p nodes on 127.0.0.1: echo, back-pressure over a large transfer, bootstrap
// re-dialling, mDNS discovery, and the peer id <-> signing key mapping.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import { toHex } from '../../src/core/bytes.ts';
import type { ByteStream } from '../../src/core/byte-stream.ts';
import {
  createNetNode, peerIdOfPublicKey, publicKeyOfPeerId,
  type NetNode, type NetOptions, type NetPeerInfo,
} from '../../src/net/libp2p-node.ts';

const ECHO = '/trellis-test/echo/1.0.0';
const SINK = '/trellis-test/sink/1.0.0';

interface TestNode { node: NetNode; keys: KeyPair; logs: string[] }

const running: NetNode[] = [];
const allLogs: string[] = [];
const allKeys: KeyPair[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  // The adapter must never log keys.
  for (const keys of allKeys.splice(0)) {
    const secretHex = toHex(keys.secretKey.subarray(0, 32));
    for (const line of allLogs) assert.ok(!line.includes(secretHex), 'a log line contains a secret key');
  }
  allLogs.length = 0;
});

async function startNode(over: Partial<NetOptions> = {}, keys: KeyPair = signingKeyPair()): Promise<TestNode> {
  const logs: string[] = [];
  allKeys.push(keys);
  const node = await createNetNode({
    signingSecretKey: keys.secretKey,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    log: (line) => { logs.push(line); allLogs.push(line); },
    ...over,
  });
  running.push(node);
  return { node, keys, logs };
}

async function stopNode(node: NetNode): Promise<void> {
  const i = running.indexOf(node);
  if (i >= 0) running.splice(i, 1);
  await node.stop();
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

async function readAll(stream: ByteStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

const connectedTo = (n: NetNode, peerId: string): boolean => n.connectedPeers().some((p) => p.peerId === peerId);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

test('two nodes: dial by multiaddr, echo both ways, keys match peer ids', { timeout: 30_000 }, async () => {
  const a = await startNode();
  const b = await startNode();
  assert.equal(a.node.peerId, peerIdOfPublicKey(a.keys.publicKey));

  const inbound: NetPeerInfo[] = [];
  await a.node.handle(ECHO, (stream, remote) => {
    inbound.push(remote);
    void (async () => {
      for await (const chunk of stream) await stream.write(chunk);
      await stream.close();
    })().catch((err: unknown) => { stream.abort(err instanceof Error ? err : new Error(String(err))); });
  });

  const connectedOnB: NetPeerInfo[] = [];
  const connectedOnA: NetPeerInfo[] = [];
  b.node.onPeerConnected((p) => connectedOnB.push(p));
  a.node.onPeerConnected((p) => connectedOnA.push(p));

  const addr = a.node.addrs()[0];
  assert.match(addr, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.node.peerId}$`));

  const { stream, remote } = await b.node.openStream(addr, ECHO);
  assert.equal(remote.peerId, a.node.peerId);
  assert.deepEqual(remote.publicKey, Uint8Array.from(a.keys.publicKey));

  const reply = readAll(stream);
  await stream.write(text('hello, '));
  await stream.write(text('world'));
  await stream.close();
  assert.equal(new TextDecoder().decode(await reply), 'hello, world');

  assert.equal(inbound.length, 1);
  assert.equal(inbound[0].peerId, b.node.peerId);
  assert.deepEqual(inbound[0].publicKey, Uint8Array.from(b.keys.publicKey));

  // A second stream by peer id reuses the connection; the peer-connected event fired once per side.
  const again = await b.node.openStream(a.node.peerId, ECHO);
  const reply2 = readAll(again.stream);
  await again.stream.write(text('again'));
  await again.stream.close();
  assert.equal(new TextDecoder().decode(await reply2), 'again');

  await waitFor(() => connectedOnA.length === 1 && connectedOnB.length === 1, 5_000, 'peer-connected events');
  assert.equal(connectedOnB[0].peerId, a.node.peerId);
  assert.deepEqual(connectedOnB[0].publicKey, Uint8Array.from(a.keys.publicKey));
  assert.deepEqual(b.node.connectedPeers().map((p) => p.peerId), [a.node.peerId]);
  assert.deepEqual(a.node.connectedPeers().map((p) => p.peerId), [b.node.peerId]);

  // Identify has told B where A listens, in a form B can pass on.
  await waitFor(() => b.node.addrsOf(a.node.peerId).includes(addr), 5_000, 'A\'s address in B\'s peer store');
  assert.deepEqual(b.node.addrsOf('12D3KooWNotAPeerWeKnow'), []);

  const disconnected: NetPeerInfo[] = [];
  b.node.onPeerDisconnected((p) => disconnected.push(p));
  await stopNode(a.node);
  await waitFor(() => disconnected.length === 1, 5_000, 'peer-disconnected event');
  assert.equal(disconnected[0].peerId, a.node.peerId);
  assert.deepEqual(b.node.connectedPeers(), []);
});

test('unreachable targets reject with a clear error within the timeout', { timeout: 30_000 }, async () => {
  const b = await startNode();
  const ghost = peerIdOfPublicKey(signingKeyPair().publicKey);

  // Nothing listens on port 1.
  await assert.rejects(b.node.openStream(`/ip4/127.0.0.1/tcp/1/p2p/${ghost}`, ECHO, 3_000), /cannot open .* stream to/);
  // A peer id with no known addresses.
  await assert.rejects(b.node.openStream(ghost, ECHO, 3_000), /cannot open .* stream to/);
  await assert.rejects(b.node.dial(`/ip4/127.0.0.1/tcp/1/p2p/${ghost}`), /cannot dial/);

  // A TCP server that accepts and then says nothing: only the timeout can end the attempt.
  const sockets = new Set<import('node:net').Socket>();
  const silent: Server = createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as import('node:net').AddressInfo).port;
  try {
    const started = Date.now();
    await assert.rejects(b.node.openStream(`/ip4/127.0.0.1/tcp/${port}/p2p/${ghost}`, ECHO, 800), /no answer within 800 ms/);
    const took = Date.now() - started;
    assert.ok(took >= 700 && took < 5_000, `rejected after ${took} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }

  // A protocol the remote does not speak.
  const a = await startNode();
  await assert.rejects(b.node.openStream(a.node.addrs()[0], '/trellis-test/nobody/1', 3_000), /cannot open/);
});

test('back-pressure: 64 MiB in 64 KiB writes arrive intact with bounded memory', { timeout: 120_000 }, async () => {
  const a = await startNode();
  const b = await startNode();
  const TOTAL = 64 * 1024 * 1024;
  const CHUNK = 64 * 1024;
  const STALL_MS = 1_500;

  let received = 0;
  let sent = 0;
  let sentWhenStallEnded = -1;
  const sinkDone = Promise.withResolvers<{ digest: string; bytes: number }>();
  await a.node.handle(SINK, (stream) => {
    void (async () => {
      // Stall first: with working back-pressure the sender must stop after a window or so.
      await sleep(STALL_MS);
      sentWhenStallEnded = sent;
      const h = createHash('sha256');
      let n = 0;
      for await (const chunk of stream) {
        h.update(chunk);
        n += chunk.byteLength;
        received = n;
        // A consumer slower than the network from time to time.
        if ((n & (8 * 1024 * 1024 - 1)) < chunk.byteLength) await sleep(20);
      }
      await stream.close();
      sinkDone.resolve({ digest: h.digest('hex'), bytes: n });
    })().catch(sinkDone.reject);
  });

  const rssBefore = process.memoryUsage().rss;
  let rssMax = rssBefore;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage().rss); }, 20);
  try {
    const { stream } = await b.node.openStream(a.node.addrs()[0], SINK);
    const h = createHash('sha256');
    const started = Date.now();
    for (sent = 0; sent < TOTAL;) {
      const chunk = nodeRandomBytes(CHUNK);
      h.update(chunk);
      await stream.write(chunk);
      sent += chunk.byteLength;
    }
    await stream.close();
    const result = await sinkDone.promise;
    const secs = (Date.now() - started) / 1000;
    assert.equal(result.bytes, TOTAL);
    assert.equal(result.bytes, received);
    assert.equal(result.digest, h.digest('hex'));
    // Yamux window (16 MiB at most) + our read queue (1 MiB) + socket buffers: far below 64 MiB.
    assert.ok(sentWhenStallEnded >= 0 && sentWhenStallEnded <= 24 * 1024 * 1024,
      `the sender got ${sentWhenStallEnded} bytes out while the receiver was not reading`);
    const grewMiB = (rssMax - rssBefore) / (1024 * 1024);
    assert.ok(grewMiB < 200, `rss grew by ${grewMiB.toFixed(0)} MiB`);
    process.stdout.write(`# 64 MiB in ${secs.toFixed(1)} s; sender stopped at ${(sentWhenStallEnded / 1048576).toFixed(1)} MiB during the stall; rss +${grewMiB.toFixed(0)} MiB\n`);
  } finally {
    clearInterval(sampler);
  }
});

test('stream lifecycle: echo of 8 MiB both ways, early-exiting reader, abort', { timeout: 60_000 }, async () => {
  const a = await startNode();
  const b = await startNode();
  await a.node.handle(ECHO, (stream) => {
    void (async () => {
      for await (const chunk of stream) await stream.write(chunk);
      await stream.close();
    })().catch(() => { /* aborted by the test */ });
  });

  // Concurrent writing and reading on both ends, each side throttled by the other.
  const echo = await b.node.openStream(a.node.addrs()[0], ECHO);
  const payload = nodeRandomBytes(8 * 1024 * 1024);
  const back = readAll(echo.stream);
  for (let off = 0; off < payload.byteLength; off += 100_000) await echo.stream.write(payload.subarray(off, off + 100_000));
  await echo.stream.close();
  assert.ok(Buffer.from(await back).equals(payload), 'echoed bytes differ');

  // A reader that stops early must not stall the writer: the rest is discarded. It waits first so
  // that the stream is paused (queue full) when it quits.
  let sinkExited = false;
  await a.node.handle(SINK, (stream) => {
    void (async () => {
      await sleep(300);
      for await (const _chunk of stream) break;
      sinkExited = true;
    })();
  });
  const sink = await b.node.openStream(a.node.addrs()[0], SINK);
  for (let i = 0; i < 48; i++) await sink.stream.write(nodeRandomBytes(1024 * 1024));
  await sink.stream.close();
  assert.ok(sinkExited);

  // Aborting tears down both ends: the remote's reader fails and our writes fail.
  const remoteRead = Promise.withResolvers<unknown>();
  await a.node.handle('/trellis-test/abort/1', (stream) => {
    void readAll(stream).then(() => remoteRead.resolve('ended'), (err: unknown) => remoteRead.resolve(err));
  });
  const doomed = await b.node.openStream(a.node.addrs()[0], '/trellis-test/abort/1');
  await doomed.stream.write(text('partial'));
  await sleep(50);
  doomed.stream.abort(new Error('test abort'));
  const outcome = await remoteRead.promise;
  assert.ok(outcome instanceof Error, `remote reader saw ${String(outcome)}`);
  await assert.rejects(doomed.stream.write(text('more')));
  await assert.rejects((async () => { for await (const _c of doomed.stream) { /* nothing */ } })(), /test abort/);
});

test('bootstrap: connects by itself and re-connects to a restarted peer', { timeout: 60_000 }, async () => {
  const aKeys = signingKeyPair();
  const a1 = await startNode({}, aKeys);
  const aAddr = a1.node.addrs()[0];
  const port = /\/tcp\/(\d+)\//.exec(aAddr)?.[1];
  assert.ok(port);

  const b = await startNode({ bootstrap: [aAddr] });
  const ups: string[] = [];
  const downs: string[] = [];
  b.node.onPeerConnected((p) => ups.push(p.peerId));
  b.node.onPeerDisconnected((p) => downs.push(p.peerId));

  await waitFor(() => connectedTo(b.node, a1.node.peerId), 10_000, 'B to reach A by bootstrap');
  await stopNode(a1.node);
  await waitFor(() => !connectedTo(b.node, a1.node.peerId), 10_000, 'B to notice A is gone');

  // Let B fail a re-dial or two before A comes back on the same port with the same key.
  await sleep(2_500);
  const a2 = await startNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`] }, aKeys);
  assert.equal(a2.node.peerId, a1.node.peerId);
  await waitFor(() => connectedTo(b.node, a2.node.peerId), 20_000, 'B to re-connect to the restarted A');
  await waitFor(() => ups.length === 2, 5_000, 'a second peer-connected event');
  assert.deepEqual(ups, [a1.node.peerId, a1.node.peerId]);
  assert.deepEqual(downs, [a1.node.peerId]);
  assert.ok(b.logs.some((l) => l.includes('bootstrap dial')), 'failed re-dials are logged');
});

test('mDNS: two nodes without bootstrap find and connect to each other', { timeout: 60_000 }, async () => {
  // A service tag of our own, so that other tests running on this machine are not discovered.
  const tag = `_trellis-test-${nodeRandomBytes(4).toString('hex')}._udp.local`;
  const a = await startNode({ mdns: true, mdnsServiceTag: tag });
  const b = await startNode({ mdns: true, mdnsServiceTag: tag });
  await waitFor(() => connectedTo(a.node, b.node.peerId) && connectedTo(b.node, a.node.peerId), 30_000, 'mDNS discovery');
  assert.deepEqual(a.node.connectedPeers().map((p) => p.peerId), [b.node.peerId]);
});

test('peer id <-> Ed25519 public key', async () => {
  for (let i = 0; i < 20; i++) {
    const { publicKey } = signingKeyPair();
    const id = peerIdOfPublicKey(publicKey);
    assert.match(id, /^12D3KooW/);
    assert.deepEqual(publicKeyOfPeerId(id), Uint8Array.from(publicKey));
  }
  const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
  assert.throws(() => publicKeyOfPeerId(secp), /Ed25519/);
  assert.throws(() => publicKeyOfPeerId('not a peer id'), /not a libp2p peer id/);
  assert.throws(() => peerIdOfPublicKey(new Uint8Array(33)), /32 bytes/);

  // A libsodium secret key whose halves disagree is refused rather than silently trusted.
  const a = signingKeyPair();
  const bad = Uint8Array.from(a.secretKey);
  bad.set(signingKeyPair().publicKey, 32);
  await assert.rejects(createNetNode({ signingSecretKey: bad, listen: [], bootstrap: [], mdns: false, log: () => {} }), /does not match/);
  await assert.rejects(createNetNode({ signingSecretKey: a.secretKey.subarray(0, 32), listen: [], bootstrap: [], mdns: false, log: () => {} }), /64 bytes/);
  await assert.rejects(createNetNode({ signingSecretKey: a.secretKey, listen: [], bootstrap: ['/ip4/127.0.0.1/tcp/1'], mdns: false, log: () => {} }), /lacks \/p2p/);
});
