// GET /api/workspaces/:ws/members: who belongs to a workspace, with roles and presence.
import { route } from '../router.ts';

export const memberRoutes = [
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/members',
    handle: ({ peer, params }) => peer.members(peer.resolveWorkspace(params.ws)),
  }),
];
