// WebSocket /api/workspaces/:ws/notes/:note/socket: live editing of one note from the web UI.
// The browser keeps its own Yjs copy of the note (TipTap edits it); this socket keeps the two
// copies equal:
// - on connect the daemon sends the whole document;
// - a browser's update is applied through peer.changeDoc, so it becomes one signed entry that every
//   member receives, exactly as a CLI or SDK change would;
// - every other change of the daemon's copy (other members' entries, other local browsers, the
//   CLI) goes out to the browsers as the Yjs update that made it;
// - awareness (cursors and names) is relayed between the browsers of this daemon, and crosses to
//   other members' daemons on the presence channel (cursor-bridge.ts). It is ephemeral: never
//   logged, never in the document.
//
// Frames are binary: one kind byte, then the payload.
//   0 SYNC      daemon → browser  the whole document (Y.encodeStateAsUpdate)
//   1 UPDATE    both ways         a Yjs update
//   2 AWARENESS both ways         a y-protocols awareness update
//   3 INFO      daemon → browser  UTF-8 JSON {writable: boolean, error?: string}
//   4 RESET     daemon → browser  the daemon rebuilt the document (a late membership verdict
//                                 changed which entries count): drop the copy, take this one
// The same Host, Origin and token/session checks as every API request guard the handshake.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import * as Y from 'yjs';
import { TrellisError } from '../core/errors.ts';
import { MAX_UPDATE_BYTES } from '../tools/common/update-size.ts';
import { resolveTool } from '../tools/registry/tool-list.ts';
import { checkAccess, type AccessPolicy } from './access.ts';
import type { ApiPeer } from './api-peer.ts';
import { readAwareness, writeAwareness, type AwarenessEntry } from './awareness-update.ts';
import { cursorData, RemoteCursors, RENEW_MS } from './cursor-bridge.ts';
import { docAccess } from './routes/tools.ts';

export const DOC_SOCKET_PATH = /^\/api\/workspaces\/([^/]+)\/notes\/([^/]+)\/socket$/;

export const DocFrame = { Sync: 0, Update: 1, Awareness: 2, Info: 3, Reset: 4 } as const;
type DocFrameKind = (typeof DocFrame)[keyof typeof DocFrame];

/** Room for a large paste: one update becomes one entry, and an entry has a size limit. */
const MAX_FRAME_BYTES = MAX_UPDATE_BYTES + 1024;
const MAX_AWARENESS_BYTES = 16 * 1024;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;
/** A cursor moves with every keystroke; presence carries its latest position at most this often. */
const SHARE_MS = 150;

interface Client {
  socket: WebSocket;
  /** Awareness client ids this browser announced, so they can be dropped when it leaves. */
  ids: Set<number>;
}

interface Room {
  ws: string;
  note: string;
  doc: Y.Doc;
  clients: Set<Client>;
  /** The browser whose update is being applied: it has that change already. */
  sender?: Client;
  /** Latest awareness entry per client id, so a new browser sees the cursors already there. */
  awareness: Map<number, AwarenessEntry>;
  /** Cursors of members on other devices, from their presence. */
  remote: RemoteCursors;
  onUpdate: (update: Uint8Array) => void;
}

export interface DocSocket {
  /** True if the path is a document socket (then it has answered the upgrade, one way or the other). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean;
  close(): void;
}

export function docSocket(peer: ApiPeer, policy: AccessPolicy, log: (line: string) => void): DocSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const rooms = new Map<string, Room>();
  const alive = new WeakSet<WebSocket>();
  let unwatch: (() => void) | undefined;
  let unlisten: (() => void) | undefined;
  /** Per workspace: the cursor our presence carries, the one to send next, and which browser set it. */
  const sharing = new Map<string, { sent: string | null; next?: { doc: string; data: string } | null; owner?: Client; timer?: NodeJS.Timeout }>();

  const pinger = setInterval(() => {
    for (const s of wss.clients) {
      if (!alive.has(s)) { s.terminate(); continue; }
      alive.delete(s);
      s.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();
  // Other members' cursors stay on screen only if renewed; renewing also notices expired presence.
  const renewer = setInterval(() => {
    for (const ws of new Set([...rooms.values()].map((r) => r.ws))) refreshRemote(ws, true);
  }, RENEW_MS);
  renewer.unref();

  function send(c: Client, kind: DocFrameKind, payload: Uint8Array): void {
    if (c.socket.readyState !== c.socket.OPEN) return;
    if (c.socket.bufferedAmount > MAX_BUFFERED_BYTES) { c.socket.close(1013, 'too slow'); return; }
    const frame = new Uint8Array(1 + payload.byteLength);
    frame[0] = kind;
    frame.set(payload, 1);
    c.socket.send(frame);
  }

  const sendInfo = (c: Client, info: { writable: boolean; error?: string }): void => send(c, DocFrame.Info, new TextEncoder().encode(JSON.stringify(info)));

  function writable(ws: string): boolean {
    try {
      const access = docAccess(peer);
      return peer.permissions(ws).doc.includes(access.role(ws));
    } catch {
      return false;
    }
  }

  function attach(room: Room): void {
    room.doc = docAccess(peer).doc(room.ws, room.note);
    room.doc.on('update', room.onUpdate);
  }

  /** A rebuilt workspace has new Y.Doc objects: follow them, and give browsers the new state. */
  function watchRebuilds(): void {
    if (unwatch !== undefined) return;
    unwatch = docAccess(peer).onDocChange((ws, note) => {
      const room = rooms.get(`${ws}/${note}`);
      if (room === undefined || docAccess(peer).doc(ws, note) === room.doc) return;
      room.doc.off('update', room.onUpdate);
      attach(room);
      const state = Y.encodeStateAsUpdate(room.doc);
      for (const c of room.clients) send(c, DocFrame.Reset, state);
    });
  }

  /** Presence changed (or members came and went): show other members' cursors as they are now. */
  function watchPresence(): void {
    if (unlisten !== undefined) return;
    unlisten = peer.on((e) => { if (e.type === 'presence' || e.type === 'members') refreshRemote(e.workspace, false); });
  }

  function refreshRemote(ws: string, renew: boolean): void {
    const here = [...rooms.values()].filter((r) => r.ws === ws);
    if (here.length === 0) return;
    let members;
    try { members = peer.members(ws); } catch { return; }
    for (const room of here) {
      const changes = room.remote.update(members);
      const out = renew ? room.remote.renew().concat(changes.filter((c) => c.json === 'null')) : changes;
      if (out.length === 0) continue;
      const update = writeAwareness(out);
      for (const c of room.clients) send(c, DocFrame.Awareness, update);
    }
  }

  /** Puts a browser's cursor into our presence (or takes it out), at most every SHARE_MS. */
  function shareCursor(ws: string, owner: Client, cursor: { doc: string; data: string } | null): void {
    let s = sharing.get(ws);
    if (s === undefined) { s = { sent: null }; sharing.set(ws, s); }
    s.next = cursor;
    s.owner = cursor === null ? undefined : owner;
    if (s.timer !== undefined) return;
    const state = s;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      const next = state.next;
      state.next = undefined;
      const text = next === undefined ? undefined : JSON.stringify(next);
      if (next === undefined || text === state.sent) return;
      state.sent = next === null ? null : text!;
      try {
        peer.setPresence(ws, { cursor: next });
      } catch (err) {
        log(`notes: cannot share a cursor: ${(err as Error).message.split('\n')[0]}`);
      }
    }, SHARE_MS);
    state.timer.unref();
  }

  function join(ws: string, note: string, socket: WebSocket): void {
    const key = `${ws}/${note}`;
    let room = rooms.get(key);
    if (room === undefined) {
      const r: Room = {
        ws, note, doc: undefined as unknown as Y.Doc, clients: new Set(), awareness: new Map(), remote: new RemoteCursors(note),
        onUpdate: (update) => { for (const c of r.clients) if (c !== r.sender) send(c, DocFrame.Update, update); },
      };
      attach(r);
      rooms.set(key, r);
      room = r;
      watchRebuilds();
      watchPresence();
      try { r.remote.update(peer.members(ws)); } catch { /* no members to show */ }
    }
    const client: Client = { socket, ids: new Set() };
    room.clients.add(client);
    const current = room;

    sendInfo(client, { writable: writable(ws) });
    send(client, DocFrame.Sync, Y.encodeStateAsUpdate(current.doc));
    const present = [...current.awareness.values()].filter((e) => e.json !== 'null').concat(current.remote.current());
    if (present.length > 0) send(client, DocFrame.Awareness, writeAwareness(present));

    socket.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBytes(data);
      if (!isBinary || bytes.byteLength < 1) { socket.close(1003, 'binary frames only'); return; }
      const payload = bytes.subarray(1);
      if (bytes[0] === DocFrame.Update) applyFromBrowser(current, client, payload);
      else if (bytes[0] === DocFrame.Awareness) relayAwareness(current, client, payload);
      else socket.close(1003, 'unknown frame');
    });
    socket.on('close', () => leave(current, client));
  }

  function applyFromBrowser(room: Room, client: Client, update: Uint8Array): void {
    if (update.byteLength > MAX_UPDATE_BYTES) {
      sendInfo(client, { writable: writable(room.ws), error: 'that change is too large to share at once: paste it in smaller pieces' });
      send(client, DocFrame.Reset, Y.encodeStateAsUpdate(room.doc));
      return;
    }
    room.sender = client;
    try {
      docAccess(peer).changeDoc(room.ws, room.note, (d) => Y.applyUpdate(d, update));
    } catch (err) {
      // Refused (e.g. our role may not write notes): the browser's copy is ahead of the truth, so it starts over.
      const message = err instanceof TrellisError ? err.message : 'the change could not be saved';
      if (!(err instanceof TrellisError)) log(`notes: a browser change failed: ${(err as Error).message.split('\n')[0]}`);
      sendInfo(client, { writable: writable(room.ws), error: message });
      send(client, DocFrame.Reset, Y.encodeStateAsUpdate(room.doc));
    } finally {
      room.sender = undefined;
    }
  }

  function relayAwareness(room: Room, client: Client, payload: Uint8Array): void {
    const entries = payload.byteLength <= MAX_AWARENESS_BYTES ? readAwareness(payload) : undefined;
    if (entries === undefined) { client.socket.close(1003, 'bad awareness update'); return; }
    for (const e of entries) {
      client.ids.add(e.clientId);
      room.awareness.set(e.clientId, e);
    }
    for (const c of room.clients) if (c !== client) send(c, DocFrame.Awareness, payload);
    // Other members see this browser's cursor through our presence.
    const last = entries.at(-1);
    if (last === undefined) return;
    const data = cursorData(last.json);
    if (data !== undefined) shareCursor(room.ws, client, { doc: room.note, data });
    else if (sharing.get(room.ws)?.owner === client) shareCursor(room.ws, client, null);
  }

  function leave(room: Room, client: Client): void {
    room.clients.delete(client);
    const gone: AwarenessEntry[] = [];
    for (const id of client.ids) {
      const last = room.awareness.get(id);
      room.awareness.delete(id);
      if (last !== undefined && last.json !== 'null') gone.push({ clientId: id, clock: last.clock + 1, json: 'null' });
    }
    if (gone.length > 0) {
      const update = writeAwareness(gone);
      for (const c of room.clients) send(c, DocFrame.Awareness, update);
    }
    if (sharing.get(room.ws)?.owner === client) shareCursor(room.ws, client, null);
    if (room.clients.size === 0) {
      room.doc.off('update', room.onUpdate);
      rooms.delete(`${room.ws}/${room.note}`);
      if (rooms.size === 0) {
        unwatch?.(); unwatch = undefined;
        unlisten?.(); unlisten = undefined;
      }
    }
  }

  wss.on('connection', (socket: WebSocket, _req: IncomingMessage, ws: string, note: string) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('error', () => socket.terminate());
    try {
      join(ws, note, socket);
    } catch (err) {
      log(`notes: cannot open a note socket: ${(err as Error).message.split('\n')[0]}`);
      socket.close(1011, 'internal error');
    }
  });

  return {
    handleUpgrade(req, socket, head, path) {
      const m = DOC_SOCKET_PATH.exec(path);
      if (m === null) return false;
      const denial = checkAccess(req, policy);
      if (denial !== undefined) {
        log(`notes: refused a WebSocket (${denial.status})`);
        refuse(socket, denial.status, denial.status === 401 ? 'Unauthorized' : 'Forbidden');
        return true;
      }
      let ws: string;
      let note: string;
      try {
        const access = docAccess(peer);
        ws = access.resolveWorkspace(decodeURIComponent(m[1]));
        // Only notes: other documents (the tool list, tasks, calendars) change through their routes, which check their shape.
        note = resolveTool(access, ws, decodeURIComponent(m[2]), 'notes').id;
      } catch (err) {
        const status = err instanceof TrellisError && err.code === 'unavailable' ? 503 : 404;
        refuse(socket, status, status === 503 ? 'Service Unavailable' : 'Not Found');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (s) => wss.emit('connection', s, req, ws, note));
      return true;
    },
    close() {
      clearInterval(pinger);
      clearInterval(renewer);
      for (const s of sharing.values()) clearTimeout(s.timer);
      unwatch?.();
      unlisten?.();
      for (const room of rooms.values()) room.doc.off('update', room.onUpdate);
      rooms.clear();
      for (const s of wss.clients) s.terminate();
      wss.close();
    },
  };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
