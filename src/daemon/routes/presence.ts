// Presence: tell other members which tool we have open, whether we are typing, which call we are in.
import { z } from 'zod';
import { route } from '../router.ts';

const PostPresence = z.object({
  tool: z.string().max(64).nullable().optional(),
  typing: z.boolean().optional(),
  cursor: z.object({ doc: z.string().regex(/^[0-9a-f]{32}$/), data: z.string().max(1200) }).nullable().optional(),
  call: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters').nullable().optional(),
}).strict();

export const presenceRoutes = [
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/presence',
    body: PostPresence,
    handle: ({ peer, params, body }) => {
      peer.setPresence(peer.resolveWorkspace(params.ws), {
        ...(body.tool !== undefined ? { tool: body.tool } : {}),
        ...(body.typing !== undefined ? { typing: body.typing } : {}),
        ...(body.cursor !== undefined ? { cursor: body.cursor } : {}),
        ...(body.call !== undefined ? { call: body.call } : {}),
      });
      return { ok: true };
    },
  }),
];
