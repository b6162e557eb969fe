// The local API of a relay daemon (`trellis relay`): the same server, token and checks as a peer's,
// in front of a Relay. GET /api/status answers with the relay's figures; everything a relay does
// not do (it has no workspaces of its own) answers a clear 400; GET /api/relay/workspaces lists
// what it serves (ids and sizes: it knows no names).
import { TrellisError } from '../core/errors.ts';
import type { Relay } from '../relay.ts';
import type { ApiPeer } from './api-peer.ts';
import { route, type Route } from './router.ts';

const NOT_A_PEER = 'this daemon is a relay: it stores others\' workspaces and has none of its own (run `trellis start` for a peer)';

/** Stands for the peer in the API server; only `status` and `on` are real. */
export function relayApiPeer(relay: Relay): ApiPeer {
  return new Proxy({} as ApiPeer, {
    get: (_target, prop) => {
      if (prop === 'status') return () => relay.status();
      if (prop === 'on') return relay.on.bind(relay);
      if (prop === 'keyHex') return relay.keyHex;
      // Optional parts report themselves missing; `then` must stay undefined so the proxy is no thenable.
      if (typeof prop === 'symbol' || prop === 'then' || prop === 'files') return undefined;
      return () => { throw new TrellisError('invalid', NOT_A_PEER); };
    },
  });
}

export function relayAdminRoutes(relay: Relay): Route[] {
  return [
    route({ method: 'GET', path: '/api/relay/workspaces', handle: () => relay.workspaces() }),
  ];
}
