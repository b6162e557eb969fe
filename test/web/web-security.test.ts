// The web UI's side of the daemon: static files (MIME types, SPA fallback, no way out of the root,
// security headers), the token → cookie session exchange and what a cookie may do, onboarding
// routes, and the API's locks as a browser meets them (401 without credentials, 403 for a foreign
// Host or Origin), with the token never in a log line. The peer is a stand-in.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { startApiServer, type ApiServer } from '../../src/daemon/api-server.ts';
import { capabilityRoutes } from '../../src/daemon/capabilities.ts';
import { identityRoutes } from '../../src/daemon/onboarding.ts';
import { apiRoutes } from '../../src/daemon/routes/index.ts';
import { FakePeer } from '../daemon/fake-peer.ts';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string }

interface Fixture { server: ApiServer; logs: string[]; outside: string; identity: { name: string | undefined } }

const INDEX = '<!doctype html><title>Trellis</title><div id="root"></div>';
const SECRET = 'top secret: outside the web root';

async function withServer(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Fixture> {
  const base = mkdtempSync(join(tmpdir(), 'trellis-web-sec-'));
  const home = join(base, 'home');
  const root = join(base, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), INDEX);
  writeFileSync(join(root, 'assets', 'app-abc123.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'app-abc123.css'), 'body{}');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  const outside = join(base, 'secret.txt');
  writeFileSync(outside, SECRET);
  symlinkSync(outside, join(root, 'assets', 'link.txt'));
  const logs: string[] = [];
  const identity = { name: undefined as string | undefined };
  const extra = identityRoutes({ name: () => identity.name, create: async (name) => { identity.name = name; } });
  const server = await startApiServer({
    peer: new FakePeer(), home, port: 0, webRoot: root, log: (l) => logs.push(l),
    extraRoutes: [...extra, ...capabilityRoutes([...apiRoutes, ...extra])],
  });
  t.after(async () => {
    await server.close();
    rmSync(base, { recursive: true, force: true });
  });
  return { server, logs, outside, identity };
}

function call(server: ApiServer, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { host: `127.0.0.1:${server.port}`, ...headers }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (s: ApiServer) => ({ authorization: `Bearer ${s.token}` });

async function session(server: ApiServer): Promise<string> {
  const r = await call(server, 'POST', '/api/session', { ...bearer(server), origin: `http://127.0.0.1:${server.port}` });
  assert.equal(r.status, 200);
  const cookie = String(r.headers['set-cookie']);
  return cookie.split(';')[0];
}

test('static files: index, assets with their MIME types, and index.html for client-side routes', async (t) => {
  const { server } = await withServer(t);
  const index = await call(server, 'GET', '/');
  assert.equal(index.status, 200);
  assert.equal(index.text, INDEX);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['cache-control'], 'no-store');
  const js = await call(server, 'GET', '/assets/app-abc123.js');
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(String(js.headers['cache-control']), /immutable/);
  assert.equal((await call(server, 'GET', '/assets/app-abc123.css')).headers['content-type'], 'text/css; charset=utf-8');
  const route = await call(server, 'GET', '/w/0123/tasks');
  assert.equal(route.status, 200);
  assert.equal(route.text, INDEX);
  assert.equal((await call(server, 'GET', '/assets/missing.js')).status, 404);
  assert.equal((await call(server, 'HEAD', '/')).status, 200);
  assert.equal((await call(server, 'POST', '/')).status, 405);
});

test('static files: every answer carries the security headers and a strict CSP', async (t) => {
  const { server } = await withServer(t);
  for (const path of ['/', '/assets/app-abc123.js', '/nope.js', '/../x']) {
    const r = await call(server, 'GET', path);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self'(;|$)/, path);
    assert.match(csp, /style-src 'self'(;|$)/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.match(csp, /object-src 'none'/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(r.headers['x-frame-options'], 'DENY', path);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', path);
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', path);
  }
});

test('static files: no way out of the web root', async (t) => {
  const { server } = await withServer(t);
  const attempts = [
    '/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt', '/assets/..\\..\\secret.txt', '/%00', '/assets/%00.js', '/.env', '/assets/.%2e/.%2e/secret.txt',
    '/assets/link.txt', '//etc/passwd', '/%252e%252e/secret.txt', '/%',
  ];
  for (const path of attempts) {
    const r = await call(server, 'GET', path);
    assert.ok(!r.text.includes(SECRET) && !r.text.includes('SECRET=1') && !r.text.includes('root:'), `${path} leaked a file`);
    assert.ok([400, 404].includes(r.status) || (r.status === 200 && r.text === INDEX), `${path} answered ${r.status}`);
  }
});

test('static files keep the Host and Origin checks (DNS rebinding, other sites)', async (t) => {
  const { server } = await withServer(t);
  assert.equal((await call(server, 'GET', '/', { host: 'evil.example:80' })).status, 403);
  assert.equal((await call(server, 'GET', '/', { host: `attacker.test:${server.port}` })).status, 403);
  assert.equal((await call(server, 'GET', '/assets/app-abc123.js', { origin: 'http://evil.example' })).status, 403);
  assert.equal((await call(server, 'GET', '/', { host: `localhost:${server.port}` })).status, 200);
});

test('the API: no credentials → 401, wrong Host or Origin → 403, even with the token', async (t) => {
  const { server } = await withServer(t);
  assert.equal((await call(server, 'GET', '/api/status')).status, 401);
  assert.equal((await call(server, 'GET', '/api/workspaces')).status, 401);
  assert.equal((await call(server, 'GET', '/api/status', { ...bearer(server), host: `evil.example:${server.port}` })).status, 403);
  assert.equal((await call(server, 'GET', '/api/status', { ...bearer(server), origin: 'http://evil.example' })).status, 403);
  assert.equal((await call(server, 'GET', '/api/status', { ...bearer(server), origin: `http://127.0.0.1:${server.port + 1}` })).status, 403);
  assert.equal((await call(server, 'GET', '/api/status', bearer(server))).status, 200);
});

test('session: the token buys an HttpOnly, SameSite=Strict cookie, once per request that shows it', async (t) => {
  const { server } = await withServer(t);
  assert.equal((await call(server, 'POST', '/api/session')).status, 401);
  assert.equal((await call(server, 'POST', '/api/session', { authorization: 'Bearer wrong' })).status, 401);
  const r = await call(server, 'POST', '/api/session', bearer(server));
  assert.equal(r.status, 200);
  const cookie = String(r.headers['set-cookie']);
  assert.match(cookie, new RegExp(`^trellis_session_${server.port}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$`));
  assert.ok(!cookie.includes(server.token), 'the cookie is not the token');
  // A cookie does not beget cookies.
  assert.equal((await call(server, 'POST', '/api/session', { cookie: cookie.split(';')[0], 'x-trellis-request': '1' })).status, 401);
  assert.equal((await call(server, 'GET', '/api/session', bearer(server))).status, 405);
});

test('session: a cookie works only with proof that our own page sent the request', async (t) => {
  const { server } = await withServer(t);
  const cookie = await session(server);
  const own = `http://127.0.0.1:${server.port}`;
  assert.equal((await call(server, 'GET', '/api/status', { cookie, 'x-trellis-request': '1' })).status, 200);
  assert.equal((await call(server, 'GET', '/api/status', { cookie, 'sec-fetch-site': 'same-origin' })).status, 200);
  assert.equal((await call(server, 'POST', '/api/workspaces', { cookie, 'x-trellis-request': '1', origin: own, 'content-type': 'application/json' }, '{"name":"W"}')).status, 201);
  // Plain cookie (another page's <img> or form), another local port's page (same site, not same origin), a foreign origin.
  assert.equal((await call(server, 'GET', '/api/status', { cookie })).status, 401);
  assert.equal((await call(server, 'GET', '/api/status', { cookie, 'sec-fetch-site': 'same-site' })).status, 401);
  assert.equal((await call(server, 'POST', '/api/workspaces', { cookie, 'x-trellis-request': '1', origin: 'http://127.0.0.1:9', 'content-type': 'application/json' }, '{"name":"W"}')).status, 403);
  // Unknown or malformed sessions, or a session of another daemon's port.
  assert.equal((await call(server, 'GET', '/api/status', { cookie: `trellis_session_${server.port}=${'ab'.repeat(32)}`, 'x-trellis-request': '1' })).status, 401);
  assert.equal((await call(server, 'GET', '/api/status', { cookie: `${cookie}x`, 'x-trellis-request': '1' })).status, 401);
  assert.equal((await call(server, 'GET', '/api/status', { cookie: cookie.replace(`_${server.port}=`, `_${server.port + 1}=`), 'x-trellis-request': '1' })).status, 401);
  // A wrong bearer token is not rescued by a good cookie.
  assert.equal((await call(server, 'GET', '/api/status', { cookie, 'x-trellis-request': '1', authorization: 'Bearer nope' })).status, 401);
});

test('session: WebSockets take the cookie only with our Origin', async (t) => {
  const { server } = await withServer(t);
  const cookie = await session(server);
  const url = `ws://127.0.0.1:${server.port}/api/events`;
  const outcome = (headers: Record<string, string>) => new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.close(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
  assert.equal(await outcome({ cookie, origin: `http://127.0.0.1:${server.port}` }), 101);
  assert.equal(await outcome({ cookie }), 401);
  assert.equal(await outcome({ cookie, origin: 'http://evil.example' }), 403);
  assert.equal(await outcome({ origin: `http://127.0.0.1:${server.port}` }), 401);
  const notes = `ws://127.0.0.1:${server.port}/api/workspaces/x/notes/y/socket`;
  const noteOutcome = (headers: Record<string, string>) => new Promise<number>((resolve) => {
    const ws = new WebSocket(notes, { headers });
    ws.on('open', () => { ws.close(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
  assert.equal(await noteOutcome({}), 401);
  assert.equal(await noteOutcome({ cookie, origin: 'http://evil.example' }), 403);
  // The stand-in peer serves no documents: past the locks, the socket says so.
  assert.equal(await noteOutcome({ cookie, origin: `http://127.0.0.1:${server.port}` }), 503);
});

test('onboarding: POST /api/identity creates the identity once, then answers 409', async (t) => {
  const { server, identity } = await withServer(t);
  const json = { ...bearer(server), 'content-type': 'application/json' };
  assert.deepEqual(JSON.parse((await call(server, 'GET', '/api/identity', bearer(server))).text), { exists: false, name: null });
  assert.equal((await call(server, 'POST', '/api/identity', json, '{"name":"  "}')).status, 400);
  assert.equal((await call(server, 'POST', '/api/identity', json, '{"name":"A","extra":1}')).status, 400);
  assert.equal((await call(server, 'POST', '/api/identity', { 'content-type': 'application/json' }, '{"name":"Alice"}')).status, 401);
  const r = await call(server, 'POST', '/api/identity', json, '{"name":"Alice"}');
  assert.equal(r.status, 201);
  assert.equal(identity.name, 'Alice');
  assert.equal((await call(server, 'POST', '/api/identity', json, '{"name":"Mallory"}')).status, 409);
  assert.equal(identity.name, 'Alice');
  assert.deepEqual(JSON.parse((await call(server, 'GET', '/api/identity', bearer(server))).text), { exists: true, name: 'Alice' });
});

test('capabilities list the routes the daemon serves', async (t) => {
  const { server } = await withServer(t);
  const { routes } = JSON.parse((await call(server, 'GET', '/api/capabilities', bearer(server))).text) as { routes: string[] };
  for (const r of ['GET /api/status', 'POST /api/workspaces/:ws/chat', 'POST /api/identity', 'GET /api/capabilities']) assert.ok(routes.includes(r), r);
});

test('the token never reaches a log line, whatever a client sends', async (t) => {
  const { server, logs } = await withServer(t);
  await call(server, 'GET', `/api/status?token=${server.token}`);
  await call(server, 'GET', `/nothing?token=${server.token}`);
  await call(server, 'POST', '/api/session', { authorization: `Bearer ${server.token}x` });
  await session(server);
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/workspaces/a/notes/b/socket?token=${server.token}`, { headers: { origin: 'http://evil.example' } });
    ws.on('unexpected-response', () => resolve());
    ws.on('error', () => resolve());
  });
  assert.ok(logs.length > 0);
  for (const line of logs) assert.ok(!line.includes(server.token), line);
});
