// The note socket (src/daemon/doc-socket.ts) against a stand-in peer with real Yjs documents:
// the browser gets the whole note, its updates become changes through changeDoc (and reach the
// other browsers), changes from elsewhere reach every browser, awareness is relayed and dropped
// when a browser leaves, and a role that may not write is told so and reset.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { TrellisError } from '../../src/core/errors.ts';
import { startApiServer, type ApiServer } from '../../src/daemon/api-server.ts';
import type { Role } from '../../src/peer-api.ts';
import type { DocAccess, DocMember, HistoryItem } from '../../src/tools/doc-access.ts';
import { FakePeer } from '../daemon/fake-peer.ts';

const NOTE = 'aa'.repeat(16);
const TASKS = 'bb'.repeat(16);
const REGISTRY = '0'.repeat(32);

/** FakePeer plus documents: every changeDoc is recorded, as the real peer would write an entry. */
class DocPeer extends FakePeer implements DocAccess {
  readonly keyHex = 'ab'.repeat(32);
  readonly docs = new Map<string, Y.Doc>();
  readonly changes: Uint8Array[] = [];
  myRole: Role = 'participant';
  readonly presenceCalls: unknown[] = [];
  readonly #docListeners = new Set<(ws: string, doc: string) => void>();

  constructor() {
    super();
    const reg = this.docAt('', REGISTRY, 0);
    reg.getMap('tools').set(NOTE, { type: 'notes', name: 'Plan', createdBy: this.keyHex, createdAt: 1 });
    reg.getMap('tools').set(TASKS, { type: 'tasks', name: 'Board', createdBy: this.keyHex, createdAt: 2 });
  }

  doc(_ws: string, id: string): Y.Doc {
    let d = this.docs.get(id);
    if (!d) { d = new Y.Doc(); this.docs.set(id, d); }
    return d;
  }

  changeDoc(ws: string, id: string, change: (doc: Y.Doc) => void): void {
    if (!this.permissions(ws).doc.includes(this.myRole)) throw new TrellisError('forbidden', `as a ${this.myRole}, you may not change documents`);
    const d = this.doc(ws, id);
    const capture = (u: Uint8Array) => this.changes.push(u);
    d.on('update', capture);
    try { d.transact(() => change(d), 'local'); } finally { d.off('update', capture); }
    for (const l of this.#docListeners) l(ws, id);
  }

  override setPresence(ws: string, state: { tool?: string | null; typing?: boolean; cursor?: { doc: string; data: string } | null }): void {
    this.resolveWorkspace(ws);
    this.presenceCalls.push(state);
  }

  role(): Role { return this.myRole; }
  memberList(): DocMember[] { return []; }
  history(): HistoryItem[] { return []; }
  docAt(_ws: string, id: string, _until?: number): Y.Doc { return this.doc('', id); }
  onDocChange(listener: (ws: string, doc: string) => void): () => void {
    this.#docListeners.add(listener);
    return () => { this.#docListeners.delete(listener); };
  }
}

interface Client { ws: WebSocket; frames: Uint8Array[]; doc: Y.Doc; awareness: Awareness; info: { writable?: boolean; error?: string }[] }

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const home = mkdtempSync(join(tmpdir(), 'trellis-docsock-'));
  const peer = new DocPeer();
  const { id } = await peer.createWorkspace('W');
  const server = await startApiServer({ peer, home, port: 0, log: () => undefined });
  const clients: Client[] = [];
  t.after(async () => {
    for (const c of clients) { c.ws.terminate(); c.awareness.destroy(); }
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });
  const connect = (note = NOTE) => openClient(server, id, note).then((c) => { clients.push(c); return c; });
  return { peer, server, id, connect };
}

function openClient(server: ApiServer, ws: string, note: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api/workspaces/${ws}/notes/${note}/socket`, { headers: { authorization: `Bearer ${server.token}` } });
    const doc = new Y.Doc();
    const c: Client = { ws: socket, frames: [], doc, awareness: new Awareness(doc), info: [] };
    socket.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data);
      c.frames.push(bytes);
      const payload = bytes.subarray(1);
      if (bytes[0] === 0 || bytes[0] === 1) Y.applyUpdate(doc, payload, 'remote');
      if (bytes[0] === 2) applyAwarenessUpdate(c.awareness, payload, 'remote');
      if (bytes[0] === 3) c.info.push(JSON.parse(new TextDecoder().decode(payload)) as Client['info'][number]);
    });
    socket.on('open', () => resolve(c));
    // Awareness runs a timer: a client that never opened must not keep the test process alive.
    socket.on('unexpected-response', (_req, res) => { c.awareness.destroy(); reject(new Error(`refused: ${res.statusCode}`)); });
    socket.on('error', (err) => { c.awareness.destroy(); reject(err); });
  });
}

function send(c: Client, kind: number, payload: Uint8Array): void {
  const f = new Uint8Array(payload.length + 1);
  f[0] = kind;
  f.set(payload, 1);
  c.ws.send(f);
}

/** Types into the client's copy and sends the update, as the browser's NoteConnection does. */
function edit(c: Client, text: string): void {
  const before = Y.encodeStateVector(c.doc);
  c.doc.getText('t').insert(c.doc.getText('t').length, text);
  send(c, 1, Y.encodeStateAsUpdate(c.doc, before));
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a browser gets the note, and its edits become changes that reach the other browsers', async (t) => {
  const { peer, id, connect } = await setup(t);
  peer.changeDoc(id, NOTE, (d) => d.getText('t').insert(0, 'Hello'));
  const a = await connect();
  const b = await connect();
  await until('both have the note', () => a.doc.getText('t').toString() === 'Hello' && b.doc.getText('t').toString() === 'Hello');
  assert.deepEqual(a.info[0], { writable: true });

  const before = peer.changes.length;
  edit(a, ' from A');
  await until('B has A\'s edit', () => b.doc.getText('t').toString() === 'Hello from A');
  assert.equal(peer.doc(id, NOTE).getText('t').toString(), 'Hello from A');
  assert.equal(peer.changes.length, before + 1, 'one change written');
  // The sender does not get its own change back.
  const updatesToA = a.frames.filter((f) => f[0] === 1).length;
  assert.equal(updatesToA, 0);

  // A change from elsewhere (another member, the CLI) reaches every browser.
  peer.changeDoc(id, NOTE, (d) => d.getText('t').insert(0, '> '));
  await until('both get it', () => a.doc.getText('t').toString() === '> Hello from A' && b.doc.getText('t').toString() === '> Hello from A');
});

test('awareness is relayed between browsers, shown to newcomers, and dropped when a browser leaves', async (t) => {
  const { connect } = await setup(t);
  const a = await connect();
  const b = await connect();
  a.awareness.setLocalStateField('user', { name: 'Alice', color: '#e5484d' });
  send(a, 2, encodeAwarenessUpdate(a.awareness, [a.doc.clientID]));
  await until('B sees A', () => (b.awareness.getStates().get(a.doc.clientID) as { user?: { name: string } } | undefined)?.user?.name === 'Alice');
  const c = await connect();
  await until('a newcomer sees A at once', () => c.awareness.getStates().has(a.doc.clientID));
  a.ws.close();
  await until('B drops A', () => !b.awareness.getStates().has(a.doc.clientID));
  await until('C drops A', () => !c.awareness.getStates().has(a.doc.clientID));
});

test('a role that may not write is told so; a refused edit resets the browser', async (t) => {
  const { peer, id, connect } = await setup(t);
  peer.myRole = 'guest';
  peer.changeDoc = DocPeer.prototype.changeDoc.bind(peer);
  const a = await connect();
  await until('info', () => a.info.length > 0);
  assert.deepEqual(a.info[0], { writable: false });
  edit(a, 'sneaky');
  await until('a reset', () => a.frames.some((f) => f[0] === 4));
  assert.match(a.info.at(-1)?.error ?? '', /guest/);
  assert.equal(peer.doc(id, NOTE).getText('t').toString(), '');
});

test('only notes: other documents and unknown ids are refused, malformed frames close the socket', async (t) => {
  const { connect } = await setup(t);
  await assert.rejects(connect(TASKS), /404/);
  await assert.rejects(connect(REGISTRY), /404/);
  await assert.rejects(connect('cc'.repeat(16)), /404/);
  const a = await connect();
  const closed = new Promise<number>((r) => a.ws.on('close', (code) => r(code)));
  a.ws.send('text is not allowed');
  assert.equal(await closed, 1003);
  const b = await connect();
  const closedB = new Promise<number>((r) => b.ws.on('close', (code) => r(code)));
  send(b, 2, Uint8Array.from([5, 1, 2]));
  assert.equal(await closedB, 1003);
});

test('cursors cross daemons on presence: ours go out, other members\' come in under their member name', async (t) => {
  const { peer, id, connect } = await setup(t);
  const a = await connect();
  // Out: a browser's cursor becomes our presence (throttled), and leaves it with the browser.
  a.awareness.setLocalState({ user: { name: 'Alice', color: '#e5484d' }, cursor: { anchor: { assoc: 0 }, head: { assoc: 0 } } });
  send(a, 2, encodeAwarenessUpdate(a.awareness, [a.doc.clientID]));
  await until('our cursor in presence', () => peer.presenceCalls.length > 0);
  const shared = peer.presenceCalls.at(-1) as { cursor: { doc: string; data: string } };
  assert.equal(shared.cursor.doc, NOTE);
  assert.deepEqual(JSON.parse(shared.cursor.data).cursor, { anchor: { assoc: 0 }, head: { assoc: 0 } });

  // In: another member's cursor shows under the name membership gives them, whatever their data says.
  const bob = 'cd'.repeat(32);
  const members = peer.members(id);
  members.push({
    name: 'Bob', key: bob, role: 'participant', online: true,
    cursor: { doc: NOTE, data: JSON.stringify({ user: { name: 'Alice (really)', color: '#123456' }, cursor: { anchor: { assoc: 0 }, head: { assoc: 0 } }, extra: 'x' }) },
  } as (typeof members)[number]);
  peer.emit({ type: 'presence', workspace: id, member: bob });
  const bobId = Number.parseInt(bob.slice(0, 8), 16);
  await until('Bob\'s cursor', () => a.awareness.getStates().has(bobId));
  assert.deepEqual(a.awareness.getStates().get(bobId), { user: { name: 'Bob', color: '#123456' }, cursor: { anchor: { assoc: 0 }, head: { assoc: 0 } } });
  // A newcomer sees it at once; when Bob's presence drops the cursor, it goes.
  const b = await connect();
  await until('newcomer sees Bob', () => b.awareness.getStates().has(bobId));
  delete (members.at(-1) as { cursor?: unknown }).cursor;
  peer.emit({ type: 'members', workspace: id });
  await until('Bob\'s cursor gone', () => !a.awareness.getStates().has(bobId) && !b.awareness.getStates().has(bobId));

  const before = peer.presenceCalls.length;
  a.ws.close();
  await until('our cursor cleared', () => peer.presenceCalls.length > before);
  assert.deepEqual(peer.presenceCalls.at(-1), { cursor: null });
});
