// Tools: the workspace's tool list, and every tool type's own routes mounted under
// /api/workspaces/:ws/tools/:tool (an instance id or a unique name). The tools do the work
// (src/tools/); this file resolves the workspace and the instance, checks the instance's type,
// and hands over. Changes are POSTs (the CLI's client speaks GET and POST).
import { z } from 'zod';
import { TrellisError } from '../../core/errors.ts';
import type { DocAccess } from '../../tools/doc-access.ts';
import { createTool, TOOL_TYPES } from '../../tools/registry/tool-types.ts';
import { removeToolInstance, resolveTool, toolList } from '../../tools/registry/tool-list.ts';
import type { ToolInstance } from '../../tools/tool.ts';
import type { ApiPeer } from '../api-peer.ts';
import { route, type Route } from '../router.ts';

const TOOL_PATH = '/api/workspaces/:ws/tools/:tool';

/** The peer's documents; 503 from a daemon (or stand-in) that has none. */
export function docAccess(peer: ApiPeer): DocAccess {
  const p = peer as Partial<DocAccess>;
  if (typeof p.doc !== 'function' || typeof p.changeDoc !== 'function' || typeof p.docAt !== 'function' || typeof p.history !== 'function'
    || typeof p.role !== 'function' || typeof p.memberList !== 'function' || typeof p.keyHex !== 'string') {
    throw new TrellisError('unavailable', 'this daemon serves no tools');
  }
  return peer as DocAccess;
}

const toJson = (t: ToolInstance) => ({ id: t.id, type: t.type, name: t.name, createdBy: t.createdBy, createdAt: t.createdAt });

const AddTool = z.object({
  type: z.string().max(100),
  name: z.string(),
});

const listRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/tool-types',
    handle: () => TOOL_TYPES.map((t) => ({ type: t.type, description: t.description })),
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/tools',
    handle: ({ peer, params }) => {
      const access = docAccess(peer);
      return toolList(access, access.resolveWorkspace(params.ws)).map(toJson);
    },
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/tools',
    body: AddTool,
    status: 201,
    handle: ({ peer, params, body }) => {
      const access = docAccess(peer);
      return toJson(createTool(access, access.resolveWorkspace(params.ws), body.type, body.name));
    },
  }),
  route({
    method: 'GET',
    path: TOOL_PATH,
    handle: ({ peer, params }) => {
      const access = docAccess(peer);
      return toJson(resolveTool(access, access.resolveWorkspace(params.ws), params.tool));
    },
  }),
  route({
    method: 'POST',
    path: `${TOOL_PATH}/remove`,
    body: z.object({}),
    handle: ({ peer, params }) => {
      const access = docAccess(peer);
      return toJson(removeToolInstance(access, access.resolveWorkspace(params.ws), params.tool));
    },
  }),
];

function mountToolRoutes(): Route[] {
  const out: Route[] = [];
  const seen = new Set<string>();
  for (const tool of TOOL_TYPES) {
    for (const r of tool.routes) {
      const key = `${r.method} ${r.path}`;
      // Routes of different tools share one path space; a clash is a programming error.
      if (seen.has(key) || r.path === '/remove') throw new Error(`tool route ${key} of ${tool.type} is taken`);
      seen.add(key);
      out.push(route({
        method: r.method,
        path: TOOL_PATH + r.path,
        ...(r.body ? { body: r.body } : {}),
        ...(r.status ? { status: r.status } : {}),
        handle: ({ peer, params, query, body }) => {
          const access = docAccess(peer);
          const ws = access.resolveWorkspace(params.ws);
          const instance = resolveTool(access, ws, params.tool, tool.type);
          return r.handle({ access, ws, instance, params, query, body });
        },
      }));
    }
  }
  return out;
}

export const toolRoutes: readonly Route[] = [...listRoutes, ...mountToolRoutes()];
