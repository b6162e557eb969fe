// The peer behind the API, possibly not there yet. On a first run without `--name` the daemon
// starts with no identity: the web UI asks for a name (onboarding.ts), and only then is the
// identity created and the Peer started. Until then every peer call answers 503 "unavailable"
// (the API's usual answer for "not possible right now"); event subscribers are kept and receive
// the peer's events once it runs, so a page opened during onboarding needs no reconnect.
import { TrellisError } from '../core/errors.ts';
import type { PeerEvent } from '../peer-api.ts';
import type { ApiPeer } from './api-peer.ts';

export class PeerSlot {
  /** Stands for the peer: hand this to the API server. */
  readonly api: ApiPeer;
  #peer: ApiPeer | undefined;
  readonly #listeners = new Set<(e: PeerEvent) => void>();

  constructor() {
    const on = (listener: (e: PeerEvent) => void): (() => void) => {
      this.#listeners.add(listener);
      return () => { this.#listeners.delete(listener); };
    };
    this.api = new Proxy({} as ApiPeer, {
      get: (_target, prop) => {
        if (prop === 'on') return on;
        const peer = this.#peer;
        if (peer !== undefined) {
          const v: unknown = Reflect.get(peer, prop, peer);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(peer) : v;
        }
        // Optional parts report themselves missing; `then` must stay undefined so the proxy is no thenable.
        if (typeof prop === 'symbol' || prop === 'then' || prop === 'files') return undefined;
        if (prop === 'keyHex') return '';
        return () => { throw new TrellisError('unavailable', 'this peer has no identity yet: choose your name in the web UI first'); };
      },
    });
  }

  get ready(): boolean {
    return this.#peer !== undefined;
  }

  set(peer: ApiPeer): void {
    if (this.#peer !== undefined) throw new Error('the peer is set already');
    this.#peer = peer;
    peer.on((e) => { for (const l of this.#listeners) l(e); });
  }
}
