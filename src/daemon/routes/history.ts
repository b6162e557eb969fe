// History: every entry of a workspace with its author and time, oldest first; `?tool=` keeps the
// changes to one tool instance. /verify re-checks all of it and gives its fingerprint.
import { workspaceHistory } from '../../tools/registry/history.ts';
import { HttpError } from '../http-errors.ts';
import { route } from '../router.ts';
import { docAccess } from './tools.ts';

export const historyRoutes = [
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/history',
    handle: ({ peer, params, query }) => {
      const access = docAccess(peer);
      const tool = query.get('tool');
      return workspaceHistory(access, access.resolveWorkspace(params.ws), tool === null || tool === '' ? undefined : tool);
    },
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/verify',
    handle: ({ peer, params }) => {
      if (!peer.verifyHistory) throw new HttpError(503, 'unavailable', 'history verification is not supported by this daemon');
      return peer.verifyHistory(peer.resolveWorkspace(params.ws));
    },
  }),
];
