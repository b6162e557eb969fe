// Invitations: a member creates a code; another peer joins with it. Managers list the codes they
// issued and revoke unused ones (a signed control entry: every member and relay then refuses it).
import { z } from 'zod';
import { ROLES } from '../../peer-api.ts';
import { HttpError } from '../http-errors.ts';
import { route, type RequestScope } from '../router.ts';

const MAX_EXPIRY_MS = 365 * 24 * 3600 * 1000;
/** Far longer than any code the peer produces (addresses + secret + signature). */
const MAX_CODE_CHARS = 8192;

const CreateInvite = z.object({
  // 'device': a second device of the inviter's own identity (it acts as the same member).
  role: z.enum(ROLES as readonly ['manager', 'participant', 'guest']).or(z.literal('device')).optional(),
  expiresInMs: z.number().int().positive().max(MAX_EXPIRY_MS, 'must be at most 365 days').optional(),
});

const Join = z.object({
  code: z.string().trim().min(1, 'must not be empty').max(MAX_CODE_CHARS, `must be at most ${MAX_CODE_CHARS} characters`),
});

/** The invitation-list methods, or 503 for a daemon without them (HTTP tests' stand-ins). */
function issued(peer: RequestScope['peer']) {
  const { listInvites, revokeInvite } = peer;
  if (!listInvites || !revokeInvite) throw new HttpError(503, 'unavailable', 'listing and revoking invitations is not supported by this daemon');
  return { listInvites: listInvites.bind(peer), revokeInvite: revokeInvite.bind(peer) };
}

export const invitationRoutes = [
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/invites',
    body: CreateInvite,
    status: 201,
    handle: async ({ peer, params, body }) => {
      const ws = peer.resolveWorkspace(params.ws);
      return { code: await peer.createInvite(ws, { role: body.role, expiresInMs: body.expiresInMs }) };
    },
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/invites',
    handle: ({ peer, params }) => issued(peer).listInvites(peer.resolveWorkspace(params.ws)),
  }),
  route({
    method: 'DELETE',
    path: '/api/workspaces/:ws/invites/:invite',
    handle: async ({ peer, params }) => issued(peer).revokeInvite(peer.resolveWorkspace(params.ws), params.invite),
  }),
  // Resolves only once the history is synced, which can take a while: clients wait long enough.
  route({
    method: 'POST',
    path: '/api/join',
    body: Join,
    handle: async ({ peer, body }) => ({ id: (await peer.join(body.code)).id }),
  }),
];
