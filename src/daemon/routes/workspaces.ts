// Workspaces this peer belongs to: list, create, and delete from this device.
import { z } from 'zod';
import { MAX_NAME_CHARS } from '../../peer-api.ts';
import { HttpError } from '../http-errors.ts';
import { route } from '../router.ts';

const CreateWorkspace = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`),
});

export const workspaceRoutes = [
  route({ method: 'GET', path: '/api/workspaces', handle: ({ peer }) => peer.listWorkspaces() }),
  route({
    method: 'POST',
    path: '/api/workspaces',
    body: CreateWorkspace,
    status: 201,
    handle: async ({ peer, body }) => ({ id: (await peer.createWorkspace(body.name)).id }),
  }),
  route({
    method: 'DELETE',
    path: '/api/workspaces/:ws',
    handle: async ({ peer, params, query }) => {
      const force = query.get('force');
      if (force !== null && force !== 'true' && force !== 'false') throw new HttpError(400, 'invalid', 'force must be true or false');
      const id = peer.resolveWorkspace(params.ws);
      await peer.deleteWorkspace(id, { force: force === 'true' });
      return { deleted: id };
    },
  }),
];
