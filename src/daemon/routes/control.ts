// POST /api/shutdown: stops the daemon (after this response has been sent).
import { route } from '../router.ts';

export const controlRoutes = [
  route({
    method: 'POST',
    path: '/api/shutdown',
    status: 202,
    handle: ({ requestShutdown }) => {
      requestShutdown();
      return { stopping: true };
    },
  }),
];
