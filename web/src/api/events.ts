// The daemon's event stream (WebSocket /api/events): every change of every workspace, as it
// happens. One connection per page, re-opened with backoff when the daemon restarts or the
// network hiccups; its state drives the connection indicator.
import type { PeerEvent } from './types.ts';

export type StreamState = 'connecting' | 'open' | 'closed';

type EventListener = (e: PeerEvent) => void;
type StateListener = (s: StreamState) => void;

const MAX_BACKOFF_MS = 10_000;

export class EventStream {
  #socket: WebSocket | undefined;
  #state: StreamState = 'closed';
  #backoff = 500;
  #timer: number | undefined;
  #stopped = false;
  readonly #events = new Set<EventListener>();
  readonly #states = new Set<StateListener>();

  get state(): StreamState { return this.#state; }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    window.clearTimeout(this.#timer);
    this.#socket?.close();
  }

  on(listener: EventListener): () => void {
    this.#events.add(listener);
    return () => { this.#events.delete(listener); };
  }

  onState(listener: StateListener): () => void {
    this.#states.add(listener);
    return () => { this.#states.delete(listener); };
  }

  #set(state: StreamState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const l of this.#states) l(state);
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#set('connecting');
    // The session cookie authenticates the handshake; the browser adds our Origin, which the daemon checks.
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`);
    this.#socket = socket;
    socket.onopen = () => {
      this.#backoff = 500;
      this.#set('open');
    };
    socket.onmessage = (msg) => {
      if (typeof msg.data !== 'string') return;
      let event: PeerEvent;
      try { event = JSON.parse(msg.data) as PeerEvent; } catch { return; }
      for (const l of this.#events) l(event);
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#set('closed');
      if (this.#stopped) return;
      this.#timer = window.setTimeout(() => this.#connect(), this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
    };
  }
}
