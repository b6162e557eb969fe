// Browser sessions of the web UI. `trellis start` prints a URL that carries the API token in its
// fragment (`#token=…`): fragments never leave the browser, so the token reaches no server log and
// no Referer. The page then trades the token, once, for a session cookie (POST /api/session with
// `Authorization: Bearer`) and drops the fragment from its address bar; from then on the browser
// authenticates with the cookie, which page scripts cannot read (HttpOnly).
//
// The cookie alone is not enough, because browsers attach cookies to requests that other pages make:
// - SameSite=Strict keeps it off requests started by other sites, but every port of 127.0.0.1 is
//   the same *site*, so another local web server's page could still make the browser send it;
// - so an HTTP request must also prove it comes from our own page: by the header
//   X-Trellis-Request, which a page of another origin cannot add without a CORS preflight that
//   this API never grants, or by `Sec-Fetch-Site: same-origin`, which only the browser sets (pages
//   cannot), so that plain links of our page (a file download) work too;
// - a WebSocket handshake cannot carry custom headers, but browsers always send its Origin, and
//   access.ts refuses every Origin but our own: a cookie-authenticated upgrade must have one.
// Sessions live in memory: a restarted daemon has a new token and forgets them, like the token.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-io.ts';

export const SESSION_PATH = '/api/session';
/** The header the web UI adds to every HTTP request (any value; its presence is the proof). */
export const REQUEST_HEADER = 'x-trellis-request';
/** More sessions than any person opens tabs; the oldest is forgotten first. */
const MAX_SESSIONS = 256;

export class Sessions {
  /** Per port: cookies are shared by every port of a host, and two daemons must not collide. */
  readonly cookieName: string;
  /** SHA-256 of each session id: the ids themselves are never kept. Insertion order = age. */
  readonly #hashes = new Set<string>();

  constructor(port: number) {
    this.cookieName = `trellis_session_${port}`;
  }

  /** True when the request carries a live session cookie and proves it comes from our own page. */
  allows(req: IncomingMessage): boolean {
    const id = cookieValue(req.headers.cookie, this.cookieName);
    if (id === undefined || !this.#hashes.has(hash(id))) return false;
    const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
    if (upgrade) return req.headers.origin !== undefined;
    return req.headers[REQUEST_HEADER] !== undefined || req.headers['sec-fetch-site'] === 'same-origin';
  }

  /**
   * Answers POST /api/session. access.ts has checked the request already; the exchange is only
   * for a request that presented the token itself (a cookie does not beget cookies).
   */
  answer(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: { code: 'method-not-allowed', message: `use POST on ${SESSION_PATH}` } });
      return;
    }
    if (req.headers.authorization === undefined) {
      sendJson(res, 401, { error: { code: 'unauthorized', message: 'present the API token as a bearer token to open a session' } }, { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    const id = randomBytes(32).toString('hex');
    this.#hashes.add(hash(id));
    if (this.#hashes.size > MAX_SESSIONS) this.#hashes.delete(this.#hashes.values().next().value!);
    // No Max-Age: the cookie ends with the browser session, and is useless after a daemon restart anyway.
    sendJson(res, 200, { ok: true }, { 'Set-Cookie': `${this.cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict` });
  }
}

function hash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return /^[0-9a-f]{64}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}
