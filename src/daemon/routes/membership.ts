// Membership management: change a member's role, remove a member (which starts a new key epoch),
// leave, the audit trail of refused entries, the permission table, and the key epochs held.
// Who may do what is decided by the peer (it signs the control entry); these routes only validate
// the shape of requests.
import { z } from 'zod';
import { ROLES, type Role } from '../../peer-api.ts';
import { route } from '../router.ts';

const RoleName = z.enum(ROLES as readonly [Role, ...Role[]]);

const SetRole = z.object({ role: RoleName });

/** Each column lists the roles that may write it; duplicates are meaningless, so refused. */
const RoleList = z.array(RoleName).max(ROLES.length)
  .refine((roles) => new Set(roles).size === roles.length, 'must not list a role twice');

const SetPermissions = z.object({ chat: RoleList, doc: RoleList }).strict();

export const membershipRoutes = [
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/members/:member/role',
    body: SetRole,
    handle: ({ peer, params, body }) => peer.setRole(peer.resolveWorkspace(params.ws), params.member, body.role),
  }),
  route({
    method: 'DELETE',
    path: '/api/workspaces/:ws/members/:member',
    handle: async ({ peer, params }) => {
      const ws = peer.resolveWorkspace(params.ws);
      await peer.removeMember(ws, params.member);
      return { removed: params.member, epoch: peer.epochs(ws).current };
    },
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/leave',
    handle: async ({ peer, params }) => {
      await peer.leave(peer.resolveWorkspace(params.ws));
      return { left: true };
    },
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/audit',
    handle: ({ peer, params }) => peer.audit(peer.resolveWorkspace(params.ws)),
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/permissions',
    handle: ({ peer, params }) => peer.permissions(peer.resolveWorkspace(params.ws)),
  }),
  route({
    method: 'PUT',
    path: '/api/workspaces/:ws/permissions',
    body: SetPermissions,
    handle: async ({ peer, params, body }) => {
      const ws = peer.resolveWorkspace(params.ws);
      await peer.setPermissions(ws, { chat: body.chat, doc: body.doc });
      return peer.permissions(ws);
    },
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/epochs',
    handle: ({ peer, params }) => peer.epochs(peer.resolveWorkspace(params.ws)),
  }),
];
