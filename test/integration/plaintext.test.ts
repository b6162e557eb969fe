// Encrypted at rest and on the wire: after a chat between two daemons, neither SQLite store (with
// its WAL) nor the recorded TCP traffic between them contains the message text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Daemon, eventually, freePort } from '../helpers/daemons.ts';

/** A TCP proxy on 127.0.0.1 that records every byte in both directions. */
async function recordingProxy(targetPort: () => number) {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort(), '127.0.0.1');
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    client.on('data', (d) => { chunks.push(d); upstream.write(d); });
    upstream.on('data', (d) => { chunks.push(d); client.write(d); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    bytes: () => Buffer.concat(chunks),
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

test('chat texts never appear in plaintext in the SQLite files or on the wire', { timeout: 120_000 }, async (t) => {
  const marker = `PLAINTEXT-MARKER-${Math.random().toString(36).slice(2)}`;
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  await Promise.all([a.start(), b.start()]);
  const proxy = await recordingProxy(() => a.port);
  t.after(async () => { proxy.close(); await a.destroy(); await b.destroy(); });
  await a.json('workspace', 'create', 'Secret');
  const { code } = await a.json<{ code: string }>('invite', 'Secret');
  await b.json('join', code);
  await Promise.all([a.stop(), b.stop()]);

  // A moves to a port B has never heard of; B can reach it only through the recording proxy.
  a.port = await freePort();
  await a.start();
  b.bootstrap = [`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${a.peerId}`];
  await a.cli('chat', 'send', 'Secret', `history ${marker}`);
  await b.start();
  await eventually('history on B', () => b.json<unknown[]>('chat', 'log', 'Secret'), (l) => l.length === 1);
  await b.cli('chat', 'send', 'Secret', `reply ${marker}`);
  await a.cli('chat', 'send', 'Secret', `live ${marker}`);
  await eventually('messages on both', async () => Promise.all([a, b].map((d) => d.json<unknown[]>('chat', 'log', 'Secret'))), (ls) => ls.every((l) => l.length === 3));
  // The text is really there for members (so the greps below could have found it).
  const log = await b.json<{ text: string }[]>('chat', 'log', 'Secret');
  assert.equal(log.filter((m) => m.text.includes(marker)).length, 3);

  await a.stop();
  await b.stop();
  const needle = Buffer.from(marker);
  for (const d of [a, b]) {
    const files = (readdirSync(d.home, { recursive: true }) as string[]).filter((f) => statSync(join(d.home, f)).isFile());
    assert.ok(files.includes('trellis.db'));
    for (const f of files) {
      const content = readFileSync(join(d.home, f));
      assert.equal(content.indexOf(needle), -1, `${d.name}/${f} holds the plaintext`);
    }
  }
  const wire = proxy.bytes();
  assert.ok(wire.length > 3000, `the sync traffic went through the proxy (${wire.length} bytes)`);
  assert.equal(wire.indexOf(needle), -1, 'the wire holds the plaintext');
});
