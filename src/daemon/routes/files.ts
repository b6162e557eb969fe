// The files tool: add, list, versions, get, rm, restore, the fetch policy, and transfer counters.
// Paths in requests are paths on this machine (the daemon runs on the user's machine): they must
// be absolute (the CLI resolves relative ones); the service validates and normalises every path and
// shared name again. add and get answer when the transfer is done; progress goes out meanwhile on
// the event socket as {type:'file-progress', workspace, name, op, done, total, job?}.
import { z } from 'zod';
import { HttpError } from '../http-errors.ts';
import { route, type RequestScope } from '../router.ts';

const Path = z.string().min(1).max(4096);
const Name = z.string().min(1).max(4096);
const Job = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "-" or "_", at most 64').optional();
/** A version number (1…) or a version id (32 hex). */
const Version = z.union([z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[0-9a-f]{32}$/, 'a version number or a 32-hex version id')]);

const AddBody = z.object({ path: Path, as: Name.optional(), job: Job }).strict();
const GetBody = z.object({ name: Name, dest: Path, version: Version.optional(), force: z.boolean().optional(), job: Job }).strict();
const NameBody = z.object({ name: Name }).strict();
const RestoreBody = z.object({ name: Name, version: Version }).strict();
const PolicyBody = z.object({ policy: z.enum(['on-demand', 'keep-all']) }).strict();

function files(peer: RequestScope['peer']) {
  if (!peer.files) throw new HttpError(503, 'unavailable', 'the files tool is not running in this daemon');
  return peer.files;
}

function queryFlag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '0' || v === 'false') return false;
  if (v === '' || v === '1' || v === 'true') return true;
  throw new HttpError(400, 'invalid', `?${name}= takes 1 or 0`);
}

export const fileRoutes = [
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/files',
    handle: ({ peer, params, query }) => files(peer).list(peer.resolveWorkspace(params.ws), { deleted: queryFlag(query, 'deleted') }),
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/files/add',
    body: AddBody,
    status: 201,
    handle: ({ peer, params, body }) => files(peer).add(peer.resolveWorkspace(params.ws), body.path, { ...(body.as !== undefined ? { as: body.as } : {}), ...(body.job ? { job: body.job } : {}) }),
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/files/versions',
    handle: ({ peer, params, query }) => {
      const name = query.get('name');
      if (name === null || name === '') throw new HttpError(400, 'invalid', 'give the file name as ?name=');
      return files(peer).versions(peer.resolveWorkspace(params.ws), name);
    },
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/files/get',
    body: GetBody,
    handle: ({ peer, params, body }) => files(peer).get(peer.resolveWorkspace(params.ws), body.name, body.dest, {
      ...(body.version !== undefined ? { version: body.version } : {}), ...(body.force ? { force: true } : {}), ...(body.job ? { job: body.job } : {}),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/files/rm',
    body: NameBody,
    handle: ({ peer, params, body }) => files(peer).rm(peer.resolveWorkspace(params.ws), body.name),
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/files/restore',
    body: RestoreBody,
    status: 201,
    handle: ({ peer, params, body }) => files(peer).restore(peer.resolveWorkspace(params.ws), body.name, body.version),
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/files/policy',
    handle: ({ peer, params }) => ({ policy: files(peer).policy(peer.resolveWorkspace(params.ws)) }),
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/files/policy',
    body: PolicyBody,
    handle: ({ peer, params, body }) => ({ policy: files(peer).setPolicy(peer.resolveWorkspace(params.ws), body.policy) }),
  }),
  route({
    method: 'GET',
    path: '/api/files/stats',
    handle: ({ peer }) => files(peer).stats(),
  }),
];
