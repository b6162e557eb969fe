// GET /api/status: who this peer is and how connected it is.
import { route } from '../router.ts';

export const statusRoutes = [
  route({ method: 'GET', path: '/api/status', handle: ({ peer }) => peer.status() }),
];
