// History: every entry of a workspace with its author and time, oldest first; `?tool=` keeps the
// changes to one tool instance.
import { workspaceHistory } from '../../tools/registry/history.ts';
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
];
