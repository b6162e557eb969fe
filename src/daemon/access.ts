// Who may talk to the local API. Three independent locks, checked on every HTTP request and on the
// WebSocket upgrade:
// - the Host header must name the daemon itself: a web page that rebinds its DNS name to 127.0.0.1
//   still sends its own name, so it gets 403 (DNS rebinding);
// - an Origin header, when present, must be the daemon's own origin: other pages in the user's
//   browser get 403 even before the token check;
// - the bearer token from api.json, compared in constant time; or, from the web UI's own pages, the
//   session cookie it was exchanged for (session.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type AccessDenial = { status: 401 | 403; message: string };

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

export interface AccessPolicy {
  /** Lower-case `host:port` values the daemon answers to. */
  hosts: ReadonlySet<string>;
  /** `http://host:port` values of the daemon's own pages. */
  origins: ReadonlySet<string>;
  token: string;
  /** Browser sessions of the web UI (session.ts): a valid session cookie stands for the token. */
  sessions?: { allows(req: IncomingMessage): boolean };
}

export function accessPolicy(urlHost: string, port: number, token: string): AccessPolicy {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `${urlHost.toLowerCase()}:${port}`]);
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  return { hosts, origins, token };
}

/** Undefined when the request may proceed; otherwise why not. `queryToken` only for the WebSocket. */
export function checkAccess(req: IncomingMessage, policy: AccessPolicy, queryToken?: string | null): AccessDenial | undefined {
  const denial = checkHostAndOrigin(req, policy);
  if (denial !== undefined) return denial;
  const presented = bearerToken(req.headers.authorization) ?? queryToken ?? undefined;
  // A token that is presented must be right: a wrong one is not rescued by a cookie.
  if (presented === undefined ? policy.sessions?.allows(req) === true : tokensEqual(presented, policy.token)) return undefined;
  return { status: 401, message: 'missing or wrong API token: use the token in api.json in the home directory' };
}

/** The first two locks alone: for the web UI's static files, which need no token (they hold no data). */
export function checkHostAndOrigin(req: IncomingMessage, policy: AccessPolicy): AccessDenial | undefined {
  const host = req.headers.host?.toLowerCase();
  if (host === undefined || !policy.hosts.has(host)) {
    return { status: 403, message: 'this API answers only to requests addressed to 127.0.0.1 or localhost' };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !policy.origins.has(origin.toLowerCase())) {
    return { status: 403, message: 'requests from other web origins are not allowed' };
  }
  return undefined;
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Hashing first gives equal-length inputs, so neither content nor length leaks through timing. */
function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
