// Relays on a member's daemon: attach, detach and list the relays of a workspace (managers
// attach and detach; a signed control entry each), and joins queued at a relay while the inviter
// is offline. The peer validates addresses and decides who may do what; these routes check shapes.
import { z } from 'zod';
import { HttpError } from '../http-errors.ts';
import { route, type RequestScope } from '../router.ts';

const MAX_CODE_CHARS = 8192;

const AddRelay = z.object({ address: z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters') }).strict();
const Join = z.object({
  code: z.string().trim().min(1, 'must not be empty').max(MAX_CODE_CHARS, `must be at most ${MAX_CODE_CHARS} characters`),
  wait: z.boolean().optional(),
}).strict();

/** The relay methods, or 503 for a daemon without them (HTTP tests' stand-ins). */
function relays(peer: RequestScope['peer']) {
  const { addRelay, removeRelay, relayList } = peer;
  if (!addRelay || !removeRelay || !relayList) throw new HttpError(503, 'unavailable', 'relays are not supported by this daemon');
  return { addRelay: addRelay.bind(peer), removeRelay: removeRelay.bind(peer), relayList: relayList.bind(peer) };
}

export const relayRoutes = [
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/relays',
    handle: ({ peer, params }) => relays(peer).relayList(peer.resolveWorkspace(params.ws)),
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/relays',
    body: AddRelay,
    status: 201,
    handle: ({ peer, params, body }) => relays(peer).addRelay(peer.resolveWorkspace(params.ws), body.address),
  }),
  route({
    method: 'DELETE',
    path: '/api/workspaces/:ws/relays/:relay',
    handle: async ({ peer, params }) => {
      await relays(peer).removeRelay(peer.resolveWorkspace(params.ws), params.relay);
      return { removed: params.relay };
    },
  }),
  // Like POST /api/join, but a join queued at a relay can answer at once ({pending: true}).
  route({
    method: 'POST',
    path: '/api/joins',
    body: Join,
    handle: async ({ peer, body }) => {
      // A daemon without relay support joins directly, as POST /api/join does.
      if (!peer.joinWithRelays) return { id: (await peer.join(body.code)).id, pending: false };
      return peer.joinWithRelays(body.code, { wait: body.wait ?? true });
    },
  }),
  route({ method: 'GET', path: '/api/joins', handle: ({ peer }) => peer.pendingJoins?.() ?? [] }),
];
