// Presence on the ephemeral channel: tool and typing reach other members, and a stopped peer
// shows offline within 10 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { waitFor } from '../helpers/replicas.ts';

async function startPeer(name: string, bootstrap: string[] = []) {
  const home = mkdtempSync(join(tmpdir(), `trellis-${name}-`));
  createIdentity(home, name);
  const peer = await Peer.start({ home, mdns: false, bootstrap, log: () => {} });
  return { peer, home, stop: async () => { await peer.stop(); rmSync(home, { recursive: true, force: true }); } };
}

test('presence: tool and typing travel; a stopped peer goes offline within 10 s', { timeout: 60_000 }, async (t) => {
  const a = await startPeer('alice');
  const b = await startPeer('bob', [a.peer.status().addrs[0]]);
  t.after(async () => { await a.stop(); await b.stop(); });
  const ws = await a.peer.createWorkspace('Here');
  await b.peer.join(await a.peer.createInvite(ws.id, {}));
  b.peer.setPresence(ws.id, { tool: 'notes', typing: true });
  await waitFor(() => a.peer.members(ws.id).some((m) => m.name === 'bob' && m.tool === 'notes' && m.typing === true), 5000, 'bob typing in notes at alice');
  // A cursor (opaque editor awareness data) travels too, and can be cleared.
  b.peer.setPresence(ws.id, { cursor: { doc: 'ab'.repeat(16), data: '{"user":{"name":"bob"},"cursor":{"anchor":3}}' } });
  await waitFor(() => a.peer.members(ws.id).some((m) => m.name === 'bob' && m.cursor?.data.includes('"anchor":3') === true && m.tool === 'notes'), 5000, 'bob\'s cursor at alice');
  b.peer.setPresence(ws.id, { cursor: null });
  await waitFor(() => a.peer.members(ws.id).some((m) => m.name === 'bob' && !m.cursor), 5000, 'cursor cleared');
  assert.throws(() => b.peer.setPresence(ws.id, { cursor: { doc: 'nope', data: '' } }), /cursor is/);
  const me = a.peer.members(ws.id).find((m) => m.name === 'alice')!;
  assert.equal(me.status, 'online');
  const c = await startPeer('carol', [b.peer.status().addrs[0]]);
  t.after(() => c.stop());
  await c.peer.join(await a.peer.createInvite(ws.id, {}));
  a.peer.setPresence(ws.id, { tool: 'chat' });
  await waitFor(() => c.peer.members(ws.id).some((m) => m.name === 'alice' && m.online && m.tool === 'chat'), 8000, 'alice seen by carol');
  const stopped = Date.now();
  await b.peer.stop();
  await waitFor(() => a.peer.members(ws.id).find((m) => m.name === 'bob')!.status === 'offline', 10_000, 'bob offline at alice');
  assert.ok(Date.now() - stopped < 10_000);
});
