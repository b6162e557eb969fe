// GET /api/status: who this peer is and how connected it is; GET /api/workspaces/:ws/sync: how far
// one workspace is from its connected peers ({peers, pending, syncing}, for the connection indicator).
import { route } from '../router.ts';

export const statusRoutes = [
  route({ method: 'GET', path: '/api/status', handle: ({ peer }) => peer.status() }),
  route({ method: 'GET', path: '/api/workspaces/:ws/sync', handle: ({ peer, params }) => peer.syncStatus(params.ws) }),
];
