// A small router: each resource group declares its routes in its own file with `route(...)`; the
// server matches method + path, validates the body with the route's zod schema and calls it.
// Adding a tool's API later means adding one file of routes and listing it in routes/index.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { ApiPeer } from './api-peer.ts';
import { HttpError } from './http-errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler gets besides its body. */
export interface RequestScope {
  peer: ApiPeer;
  /** Path parameters (`:ws` ...), already URI-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Asks the daemon to stop once the response has been sent. */
  requestShutdown: () => void;
}

export interface RouteContext<B> extends RequestScope {
  body: B;
}

interface RouteDef<B> {
  method: Method;
  /** e.g. '/api/workspaces/:ws/chat' */
  path: string;
  /** Required for routes that read a body; without it the body is not read at all. */
  body?: z.ZodType<B>;
  /** HTTP status of a success; default 200. */
  status?: number;
  handle: (ctx: RouteContext<B>) => unknown;
}

/** A route with its body type erased, so routes of different shapes live in one table. */
export interface Route {
  method: Method;
  path: string;
  readsBody: boolean;
  status: number;
  run(scope: RequestScope, rawBody: unknown): Promise<unknown>;
  /** Set for raw routes (rawRoute): they read the request and write the response themselves. */
  raw?: (scope: RequestScope, io: RawIo) => Promise<void>;
}

/** What a raw route gets to stream bodies: the request, the response and the daemon's home directory. */
export interface RawIo {
  req: IncomingMessage;
  res: ServerResponse;
  home: string;
}

/**
 * A route that streams: it reads the request body and writes the response itself (file upload and
 * download). Access checks happen before it runs, as for every route; errors it throws before
 * writing a response are answered like those of other routes.
 */
export function rawRoute(def: { method: Method; path: string; handle: (scope: RequestScope, io: RawIo) => Promise<void> }): Route {
  return {
    method: def.method,
    path: def.path,
    readsBody: false,
    status: 200,
    run() { return Promise.reject(new Error(`${def.method} ${def.path} is a raw route`)); },
    raw: def.handle,
  };
}

export function route<B = undefined>(def: RouteDef<B>): Route {
  const schema = def.body;
  return {
    method: def.method,
    path: def.path,
    readsBody: schema !== undefined,
    status: def.status ?? 200,
    async run(scope, rawBody) {
      let body = undefined as B;
      if (schema !== undefined) {
        const parsed = schema.safeParse(rawBody);
        if (!parsed.success) throw new HttpError(400, 'invalid', `invalid request body: ${describeIssues(parsed.error.issues)}`);
        body = parsed.data;
      }
      return def.handle({ ...scope, body });
    },
  };
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  readonly #routes: { route: Route; segments: string[] }[] = [];

  constructor(routes: Iterable<Route>) {
    for (const r of routes) this.#routes.push({ route: r, segments: splitPath(r.path) });
  }

  /** The matching route; HttpError 404 for an unknown path, 405 for a known path with another method. */
  match(method: string, pathname: string): RouteMatch {
    const segments = splitPath(pathname);
    const allowed: string[] = [];
    for (const { route: r, segments: pattern } of this.#routes) {
      const params = matchSegments(pattern, segments);
      if (params === undefined) continue;
      if (r.method === method) return { route: r, params };
      allowed.push(r.method);
    }
    if (allowed.length > 0) throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${pathname}; use ${allowed.join(' or ')}`);
    throw new HttpError(404, 'not-found', `no such API route: ${method} ${pathname}`);
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const raw: [string, string][] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) raw.push([pattern[i].slice(1), segments[i]]);
    else if (pattern[i] !== segments[i]) return undefined;
  }
  const params: Record<string, string> = {};
  for (const [name, value] of raw) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw new HttpError(400, 'invalid', `the path segment "${value}" is not valid URI encoding`);
    }
  }
  return params;
}
