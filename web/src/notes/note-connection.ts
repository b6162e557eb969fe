// The browser's end of the daemon's note socket (src/daemon/doc-socket.ts): a Yjs document and
// its awareness (cursors, names), kept equal to the daemon's copy of one note. TipTap edits
// `doc`; every local change goes to the daemon, which writes it as a signed entry.
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';

/** Frame kinds; the first byte of every binary frame. */
const SYNC = 0;
const UPDATE = 1;
const AWARENESS = 2;
const INFO = 3;
const RESET = 4;

/** An update with no structs and no deletions: two zero varints. */
const EMPTY_UPDATE_BYTES = 2;
const MAX_BACKOFF_MS = 10_000;

export type NoteStatus = 'connecting' | 'synced' | 'offline';

export interface NoteState {
  status: NoteStatus;
  /** Whether our role may change notes (the daemon says so on connect). */
  writable: boolean;
  /** The last refusal or failure the daemon reported, if any. */
  error: string | null;
  /** True once the first full state has arrived (the editor waits for it). */
  ready: boolean;
}

export class NoteConnection {
  readonly doc = new Y.Doc();
  readonly awareness = new Awareness(this.doc);
  readonly #url: string;
  #socket: WebSocket | undefined;
  #state: NoteState = { status: 'connecting', writable: false, error: null, ready: false };
  readonly #listeners = new Set<(s: NoteState) => void>();
  /** Called when the daemon's copy was replaced: the owner makes a fresh connection. */
  onReset: () => void = () => undefined;
  #backoff = 500;
  #timer: number | undefined;
  #destroyed = false;

  constructor(ws: string, note: string) {
    this.#url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/workspaces/${encodeURIComponent(ws)}/notes/${encodeURIComponent(note)}/socket`;
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      // Changes that came from the daemon go nowhere; our own go to it once it has given us its state.
      if (origin !== this && this.#state.ready && this.#state.status === 'synced') this.#send(UPDATE, update);
    });
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === this) return;
      const changed = [...added, ...updated, ...removed];
      if (changed.length > 0) this.#send(AWARENESS, encodeAwarenessUpdate(this.awareness, changed));
    });
    this.#connect();
  }

  get state(): NoteState { return this.#state; }

  subscribe(listener: (s: NoteState) => void): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  destroy(): void {
    this.#destroyed = true;
    window.clearTimeout(this.#timer);
    // Tell the others our cursor is gone (the daemon would too, a moment later).
    removeAwarenessStates(this.awareness, [this.doc.clientID], 'destroy');
    this.#socket?.close();
    this.awareness.destroy();
    this.doc.destroy();
  }

  #set(change: Partial<NoteState>): void {
    this.#state = { ...this.#state, ...change };
    for (const l of this.#listeners) l(this.#state);
  }

  #send(kind: number, payload: Uint8Array): void {
    const s = this.#socket;
    if (s === undefined || s.readyState !== WebSocket.OPEN) return;
    const frame = new Uint8Array(payload.byteLength + 1);
    frame[0] = kind;
    frame.set(payload, 1);
    s.send(frame);
  }

  #connect(): void {
    if (this.#destroyed) return;
    this.#set({ status: 'connecting' });
    const socket = new WebSocket(this.#url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.onmessage = (msg) => {
      if (!(msg.data instanceof ArrayBuffer) || msg.data.byteLength < 1) return;
      const bytes = new Uint8Array(msg.data);
      const payload = bytes.subarray(1);
      switch (bytes[0]) {
        case SYNC: return this.#onSync(payload);
        case UPDATE: return Y.applyUpdate(this.doc, payload, this);
        case AWARENESS: return applyAwarenessUpdate(this.awareness, payload, this);
        case INFO: return this.#onInfo(payload);
        case RESET: return this.onReset();
      }
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      // Others' cursors are stale without a connection.
      const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.doc.clientID);
      removeAwarenessStates(this.awareness, others, this);
      if (this.#destroyed) return;
      this.#set({ status: 'offline' });
      this.#timer = window.setTimeout(() => this.#connect(), this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
    };
  }

  #onSync(state: Uint8Array): void {
    Y.applyUpdate(this.doc, state, this);
    // What we wrote while not connected (or before the first state) goes to the daemon now.
    const missing = Y.encodeStateAsUpdate(this.doc, Y.encodeStateVectorFromUpdate(state));
    this.#backoff = 500;
    this.#set({ status: 'synced', ready: true });
    if (missing.byteLength > EMPTY_UPDATE_BYTES) this.#send(UPDATE, missing);
    if (this.awareness.getLocalState() !== null) this.#send(AWARENESS, encodeAwarenessUpdate(this.awareness, [this.doc.clientID]));
  }

  #onInfo(payload: Uint8Array): void {
    try {
      const info = JSON.parse(new TextDecoder().decode(payload)) as { writable?: unknown; error?: unknown };
      this.#set({ writable: info.writable === true, error: typeof info.error === 'string' ? info.error : null });
    } catch { /* a malformed notice changes nothing */ }
  }
}
