// Calls: the browser's WebRTC signalling (offer, answer, ICE candidates, bye) goes to another
// member's browser through the daemons (POST here, the 'call-signal' event there); who is in which
// call travels in presence (POST /api/workspaces/:ws/presence {call}). The media itself flows
// between the browsers. The peer checks the signal field by field (workspace/call-signal.ts).
import { z } from 'zod';
import { HttpError } from '../http-errors.ts';
import { route } from '../router.ts';

const PostSignal = z.object({
  to: z.string().regex(/^[0-9a-f]{64}$/, 'must be a member\'s key: 64 lowercase hex characters'),
  signal: z.record(z.string(), z.unknown()),
}).strict();

export const callRoutes = [
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/calls/servers',
    handle: async ({ peer, params }) => {
      if (!peer.callServers) throw new HttpError(503, 'unavailable', 'calls are not supported by this daemon');
      return peer.callServers(peer.resolveWorkspace(params.ws));
    },
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/calls/signal',
    body: PostSignal,
    handle: ({ peer, params, body }) => {
      if (!peer.sendCallSignal) throw new HttpError(503, 'unavailable', 'calls are not supported by this daemon');
      peer.sendCallSignal(peer.resolveWorkspace(params.ws), body.to, body.signal);
      return { sent: true };
    },
  }),
];
