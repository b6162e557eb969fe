// Peers in one process, on SQLite and real libp2p nodes on loopback: create, invite, join, chat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { waitFor } from '../helpers/replicas.ts';

async function startPeer(name: string, bootstrap: string[] = [], home = mkdtempSync(join(tmpdir(), `trellis-${name}-`))) {
  try { createIdentity(home, name); } catch { /* restart: exists */ }
  const logs: string[] = [];
  const peer = await Peer.start({ home, mdns: false, bootstrap, log: (l) => logs.push(l) });
  return { peer, home, logs };
}

test('create, invite, join, chat and restart with two peers', async (t) => {
  const a = await startPeer('alice');
  const b = await startPeer('bob', [a.peer.status().addrs[0]]);
  t.after(async () => { await a.peer.stop(); await b.peer.stop(); rmSync(a.home, { recursive: true }); rmSync(b.home, { recursive: true }); });
  const ws = await a.peer.createWorkspace('Plans');
  await a.peer.sendChat('Plans', 'first');
  const code = await a.peer.createInvite(ws.id, { role: 'participant' });
  const joined = await b.peer.join(code);
  assert.equal(joined.id, ws.id);
  assert.equal(joined.name, 'Plans');
  assert.deepEqual(b.peer.chatLog(ws.id).map((m) => m.text), ['first']);
  await assert.rejects(b.peer.join(code), /already a member/);
  await b.peer.sendChat(ws.id, 'hi from bob');
  await waitFor(() => a.peer.chatLog(ws.id).length === 2, 3000, 'bob\'s message at alice');
  assert.deepEqual(a.peer.chatLog(ws.id), b.peer.chatLog(ws.id));
  await waitFor(() => b.peer.syncStatus(ws.id).peers === 1 && !b.peer.syncStatus(ws.id).syncing, 3000, 'bob in sync with alice');
  assert.equal(b.peer.syncStatus(ws.id).pending, 0);
  assert.deepEqual(a.peer.members(ws.id).map((m) => [m.name, m.role, m.online]).sort(), [['alice', 'manager', true], ['bob', 'participant', true]]);
  // Restart bob: everything is still there.
  await b.peer.stop();
  const b2 = await startPeer('bob', [a.peer.status().addrs[0]], b.home);
  t.after(() => b2.peer.stop());
  assert.deepEqual(b2.peer.chatLog(ws.id).map((m) => m.text), ['first', 'hi from bob']);
  await a.peer.sendChat(ws.id, 'welcome back');
  await waitFor(() => b2.peer.chatLog(ws.id).length === 3, 10000, 'live message after restart');
});

test('documents: changes sync between peers, history lists them, docAt goes back in time', async (t) => {
  const a = await startPeer('alice');
  const b = await startPeer('bob', [a.peer.status().addrs[0]]);
  t.after(async () => { await a.peer.stop(); await b.peer.stop(); rmSync(a.home, { recursive: true }); rmSync(b.home, { recursive: true }); });
  const ws = await a.peer.createWorkspace('Docs');
  await b.peer.join(await a.peer.createInvite(ws.id, { role: 'participant' }));
  const doc = 'aa'.repeat(16);
  a.peer.changeDoc(ws.id, doc, (d) => d.getText('t').insert(0, 'hello'));
  await new Promise((r) => setTimeout(r, 20));
  const middle = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  b.peer.changeDoc(ws.id, doc, (d) => d.getText('t').insert(5, ' world'));
  await waitFor(() => a.peer.doc(ws.id, doc).getText('t').toString() === 'hello world', 5000, 'merged text at alice');
  assert.equal(a.peer.docAt(ws.id, doc, middle).getText('t').toString(), 'hello');
  const docs = a.peer.history(ws.id).filter((h) => h.kind === 'doc');
  assert.deepEqual(docs.map((h) => h.authorName), ['alice', 'bob']);
  // Only managers change the tool list; a participant is refused before anything changes.
  assert.throws(() => b.peer.changeDoc(ws.id, '0'.repeat(32), (d) => d.getMap('tools').set('x', 1)), /only managers/);
  assert.equal(b.peer.doc(ws.id, '0'.repeat(32)).getMap('tools').size, 0);
});
