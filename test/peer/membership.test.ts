// Roles, removal with key rotation, leaving, devices: in-process peers on loopback libp2p + SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { Relay } from '../../src/relay.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { waitFor } from '../helpers/replicas.ts';

async function startPeer(name: string, bootstrap: string[] = []) {
  const home = mkdtempSync(join(tmpdir(), `trellis-${name}-`));
  createIdentity(home, name);
  const logs: string[] = [];
  const peer = await Peer.start({ home, mdns: false, bootstrap, log: (l) => logs.push(l) });
  return { peer, home, logs, stop: async () => { await peer.stop(); rmSync(home, { recursive: true, force: true }); } };
}

async function trio(t: { after: (fn: () => Promise<void>) => void }) {
  const a = await startPeer('alice');
  const b = await startPeer('bob', [a.peer.status().addrs[0]]);
  const c = await startPeer('carol', [a.peer.status().addrs[0]]);
  t.after(async () => { await Promise.all([a.stop(), b.stop(), c.stop()]); });
  const ws = await a.peer.createWorkspace('Team');
  await b.peer.join(await a.peer.createInvite(ws.id, { role: 'participant' }));
  await c.peer.join(await a.peer.createInvite(ws.id, { role: 'participant' }));
  await waitFor(() => [a, b, c].every((p) => p.peer.members(ws.id).length === 3), 5000, 'three members everywhere');
  return { a, b, c, id: ws.id };
}

test('removing a member rotates the key: the removed peer cannot read what follows', async (t) => {
  const { a, b, c, id } = await trio(t);
  await b.peer.sendChat(id, 'before removal');
  await waitFor(() => c.peer.chatLog(id).length === 1 && a.peer.chatLog(id).length === 1, 5000, 'first message');
  const epochBefore = a.peer.epochs(id).current;
  let removedEvent = false;
  b.peer.on((e) => { if (e.type === 'removed') removedEvent = true; });
  await a.peer.removeMember(id, 'bob');
  const epochAfter = a.peer.epochs(id).current;
  assert.notEqual(epochAfter, epochBefore);
  await waitFor(() => removedEvent, 5000, 'bob told he was removed');
  await a.peer.sendChat(id, 'MARKER after removal');
  await waitFor(() => c.peer.chatLog(id).some((m) => m.text === 'MARKER after removal'), 5000, 'carol reads the marker');
  assert.equal(c.peer.epochs(id).current, epochAfter);
  assert.ok(c.peer.epochs(id).held.includes(epochAfter));
  // Bob: no key for the new epoch, no marker, and his writes are refused.
  assert.ok(!b.peer.epochs(id).held.includes(epochAfter), 'bob holds no key for the new epoch');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!b.peer.chatLog(id).some((m) => m.text.includes('MARKER')));
  await assert.rejects(b.peer.sendChat(id, 'still here?'), /removed|not a member/);
  assert.deepEqual(a.peer.members(id).map((m) => m.name).sort(), ['alice', 'carol']);
  assert.equal(b.peer.listWorkspaces()[0].role, 'removed');
});

test('roles: a demoted member loses rights; a guest cannot write documents; managers see the audit', async (t) => {
  const { a, b, c, id } = await trio(t);
  await a.peer.setRole(id, 'carol', 'guest');
  await waitFor(() => c.peer.role(id) === 'guest', 5000, 'carol demoted everywhere');
  assert.throws(() => c.peer.changeDoc(id, 'ab'.repeat(16), (d) => d.getText('t').insert(0, 'x')), /guest may not write doc/);
  await c.peer.sendChat(id, 'guests may chat');
  await waitFor(() => a.peer.chatLog(id).length === 1, 5000, 'guest chat');
  await assert.rejects(b.peer.setRole(id, 'carol', 'manager'), /may not change roles/);
  await assert.rejects(b.peer.removeMember(id, 'alice'), /may only remove themselves/);
  assert.throws(() => b.peer.audit(id), /only managers/);
  assert.ok(Array.isArray(a.peer.audit(id)));
  // Permissions: managers may let guests write documents.
  await a.peer.setPermissions(id, { chat: ['manager', 'participant', 'guest'], doc: ['manager', 'participant', 'guest'] });
  await waitFor(() => c.peer.permissions(id).doc.includes('guest'), 5000, 'new permission table at carol');
  c.peer.changeDoc(id, 'ab'.repeat(16), (d) => d.getText('t').insert(0, 'now allowed'));
  await waitFor(() => a.peer.doc(id, 'ab'.repeat(16)).getText('t').toString() === 'now allowed', 5000, 'guest doc edit applied');
});

test('leaving: the member removes itself and a manager rotates the key', async (t) => {
  const { a, b, c, id } = await trio(t);
  const before = a.peer.epochs(id).current;
  await c.peer.leave(id);
  await waitFor(() => a.peer.members(id).length === 2, 5000, 'carol gone at alice');
  await waitFor(() => a.peer.epochs(id).current !== before, 5000, 'automatic rotation by the manager');
  await waitFor(() => b.peer.epochs(id).current === a.peer.epochs(id).current, 5000, 'bob has the new epoch');
  assert.ok(!c.peer.epochs(id).held.includes(a.peer.epochs(id).current));
});

test('a second device acts as the same member; removing it rotates the key', async (t) => {
  const a = await startPeer('alice');
  const laptop = await startPeer('alice-laptop', [a.peer.status().addrs[0]]);
  t.after(async () => { await Promise.all([a.stop(), laptop.stop()]); });
  const ws = await a.peer.createWorkspace('Mine');
  await laptop.peer.join(await a.peer.createInvite(ws.id, { role: 'device' }));
  assert.equal(laptop.peer.role(ws.id), 'manager');
  await laptop.peer.sendChat(ws.id, 'from the laptop');
  await waitFor(() => a.peer.chatLog(ws.id).length === 1, 5000, 'device message');
  assert.equal(a.peer.chatLog(ws.id)[0].authorName, 'alice');
  assert.equal(a.peer.members(ws.id).length, 1, 'one person');
  const before = a.peer.epochs(ws.id).current;
  await a.peer.removeMember(ws.id, laptop.peer.keyHex);
  assert.notEqual(a.peer.epochs(ws.id).current, before);
  await assert.rejects(async () => { await waitFor(() => false, 200); await laptop.peer.sendChat(ws.id, 'x'); });
});

test('leaving while no one is online: the leave reaches the others when they are back, and the key is replaced', { timeout: 60_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-alice-'));
  createIdentity(home, 'alice');
  let a = await Peer.start({ home, mdns: false, log: () => {} });
  const addr = a.status().addrs[0];
  const c = await startPeer('carol', [addr]);
  t.after(async () => { await a.stop(); await c.stop(); rmSync(home, { recursive: true, force: true }); });
  const ws = await a.createWorkspace('Team');
  await c.peer.join(await a.createInvite(ws.id, { role: 'participant' }));
  await waitFor(() => a.members(ws.id).length === 2, 5000, 'carol joined');
  const before = a.epochs(ws.id).current;

  await a.stop();
  await c.peer.leave(ws.id);
  assert.equal(c.peer.listWorkspaces()[0].role, 'removed');
  // Deleting it from her device now would lose the leave: refused.
  await assert.rejects(c.peer.deleteWorkspace(ws.id), /no member or relay has your leave yet/);
  // Alice is back, at the same address.
  a = await Peer.start({ home, mdns: false, listen: [addr.replace(/\/p2p\/.*$/, '')], log: () => {} });
  await waitFor(() => a.members(ws.id).length === 1, 15_000, 'carol\'s leave at alice');
  await waitFor(() => a.epochs(ws.id).current !== before, 5000, 'the key replaced');
  assert.ok(!c.peer.epochs(ws.id).held.includes(a.epochs(ws.id).current), 'carol holds no key for the new epoch');
  // Once alice holds the leave, carol stops offering it: alice refuses her sessions from now on.
  await waitFor(() => c.peer.syncStatus(ws.id).peers === 0, 10_000, 'carol no longer syncs the workspace');
  // Now she may delete it from her device; alice's sessions then find no such workspace.
  await c.peer.deleteWorkspace(ws.id);
  assert.deepEqual(c.peer.listWorkspaces(), []);
  assert.throws(() => c.peer.members(ws.id), /no workspace/);
});

test('leaving while only the relay could take it: the leave goes to the relay when it is back, and from there to the others', { timeout: 90_000 }, async (t) => {
  const homes = ['relay', 'alice', 'carol'].map((n) => { const h = mkdtempSync(join(tmpdir(), `trellis-${n}-`)); createIdentity(h, n); return h; });
  const [rHome, aHome, cHome] = homes;
  let relay = await Relay.start({ home: rHome, log: () => {} });
  const relayAddr = relay.status().addrs[0];
  let a: Peer | undefined = await Peer.start({ home: aHome, mdns: false, log: () => {} });
  let c: Peer | undefined = await Peer.start({ home: cHome, mdns: false, bootstrap: [a.status().addrs[0]], log: () => {} });
  t.after(async () => {
    await Promise.all([a?.stop(), c?.stop(), relay.stop()]);
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });
  const ws = await a.createWorkspace('Team');
  await a.addRelay(ws.id, relayAddr);
  await c.join(await a.createInvite(ws.id, { role: 'participant' }));
  await waitFor(() => c!.relayList(ws.id).some((r) => r.connected) && a!.members(ws.id).length === 2, 15_000, 'carol joined and reaches the relay');
  const before = a.epochs(ws.id).current;
  const entries = () => relay.workspaces()[0]?.entries ?? 0;
  const total = Object.values(a.heads(ws.id)).reduce((n, s) => n + s, 0);
  await waitFor(() => entries() === total, 10_000, 'the relay holds the whole history');

  // Nobody but carol is up when she leaves.
  await Promise.all([a.stop(), relay.stop()]);
  a = undefined;
  await c.leave(ws.id);
  // The relay comes back (same address): carol hands it her leave, then goes offline for good.
  relay = await Relay.start({ home: rHome, listen: [relayAddr.replace(/\/p2p\/.*$/, '')], log: () => {} });
  await waitFor(() => entries() === total + 1, 30_000, 'carol gave the relay her leave');
  await waitFor(() => c!.syncStatus(ws.id).peers === 0, 10_000, 'carol no longer syncs the workspace');
  await c.stop();
  c = undefined;
  // Alice is back: she learns from the relay alone that carol left, and replaces the key.
  a = await Peer.start({ home: aHome, mdns: false, log: () => {} });
  await waitFor(() => a!.members(ws.id).length === 1, 30_000, 'carol\'s leave at alice, through the relay');
  await waitFor(() => a!.epochs(ws.id).current !== before, 10_000, 'the key replaced');
});
