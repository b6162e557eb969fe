// The daemon API's HTTP layer: authentication, Host/Origin checks, body limits, error mapping,
// api.json, and the events WebSocket. The peer behind it is a stand-in (test/daemon/fake-peer.ts);
// end-to-end behaviour with the real Peer is tested elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, statSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startApiServer, type ApiServer } from '../../src/daemon/api-server.ts';
import { TrellisError } from '../../src/core/errors.ts';
import { MAX_CHAT_BYTES, type PeerEvent } from '../../src/peer-api.ts';
import { FakePeer } from './fake-peer.ts';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; json: unknown; text: string }

interface Fixture { server: ApiServer; peer: FakePeer; home: string; logs: string[]; shutdowns: number[] }

async function withServer(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Fixture> {
  const home = mkdtempSync(join(tmpdir(), 'trellis-api-'));
  const peer = new FakePeer();
  const logs: string[] = [];
  const shutdowns: number[] = [];
  const server = await startApiServer({ peer, home, port: 0, log: (l) => logs.push(l), onShutdown: () => shutdowns.push(Date.now()) });
  t.after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });
  return { server, peer, home, logs, shutdowns };
}

/** Raw requests, so that tests control every header (fetch does not let a caller set Host). */
function call(server: ApiServer, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? server.token : opts.token;
  if (token !== null) headers.authorization ??= `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const errorCode = (r: Reply): string | undefined => (r.json as { error?: { code?: string } } | undefined)?.error?.code;
const errorMessage = (r: Reply): string => (r.json as { error: { message: string } }).error.message;

test('a request without a token gets 401', async (t) => {
  const { server } = await withServer(t);
  const r = await call(server, 'GET', '/api/status', { token: null });
  assert.equal(r.status, 401);
  assert.equal(errorCode(r), 'unauthorized');
  assert.equal(r.headers['www-authenticate'], 'Bearer');
});

test('a request with a wrong token gets 401, also one of another length', async (t) => {
  const { server } = await withServer(t);
  const wrong = server.token.slice(0, -1) + (server.token.endsWith('0') ? '1' : '0');
  assert.equal((await call(server, 'GET', '/api/status', { token: wrong })).status, 401);
  assert.equal((await call(server, 'GET', '/api/status', { token: 'short' })).status, 401);
  assert.equal((await call(server, 'GET', '/api/status', { headers: { authorization: `Basic ${server.token}` } })).status, 401);
});

test('the right token is accepted, with 127.0.0.1 or localhost as Host', async (t) => {
  const { server } = await withServer(t);
  const r = await call(server, 'GET', '/api/status');
  assert.equal(r.status, 200);
  assert.equal((r.json as { name: string }).name, 'Alice');
  assert.equal(r.headers['cache-control'], 'no-store');
  const l = await call(server, 'GET', '/api/status', { headers: { host: `localhost:${server.port}` } });
  assert.equal(l.status, 200);
});

test('a request addressed to another host name gets 403 (DNS rebinding), even with the token', async (t) => {
  const { server } = await withServer(t);
  for (const host of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1:${server.port + 1}`, '127.0.0.1']) {
    const r = await call(server, 'GET', '/api/status', { headers: { host } });
    assert.equal(r.status, 403, host);
    assert.equal(errorCode(r), 'forbidden');
  }
});

test('a request from a foreign Origin gets 403; the daemon\'s own origin is fine', async (t) => {
  const { server } = await withServer(t);
  for (const origin of ['http://evil.example', 'null', `https://127.0.0.1:${server.port}`, `http://127.0.0.1:${server.port + 1}`]) {
    assert.equal((await call(server, 'GET', '/api/status', { headers: { origin } })).status, 403, origin);
  }
  assert.equal((await call(server, 'GET', '/api/status', { headers: { origin: server.url } })).status, 200);
});

test('bad JSON gets 400 with a clear message', async (t) => {
  const { server } = await withServer(t);
  const r = await call(server, 'POST', '/api/workspaces', { body: '{"name": ' });
  assert.equal(r.status, 400);
  assert.equal(errorCode(r), 'invalid');
  assert.match(errorMessage(r), /not valid JSON/);
});

test('a body that fails validation gets 400 naming the field', async (t) => {
  const { server } = await withServer(t);
  const missing = await call(server, 'POST', '/api/workspaces', { body: '{}' });
  assert.equal(missing.status, 400);
  assert.match(errorMessage(missing), /name/);
  const wrongType = await call(server, 'POST', '/api/workspaces', { body: '{"name": 5}' });
  assert.equal(wrongType.status, 400);
  const { id } = (await call(server, 'POST', '/api/workspaces', { body: '{"name":"team"}' })).json as { id: string };
  const tooLong = await call(server, 'POST', `/api/workspaces/${id}/chat`, { body: JSON.stringify({ text: 'é'.repeat(MAX_CHAT_BYTES / 2 + 1) }) });
  assert.equal(tooLong.status, 400);
  assert.match(errorMessage(tooLong), /text/);
  const badRole = await call(server, 'POST', `/api/workspaces/${id}/invites`, { body: '{"role":"owner"}' });
  assert.equal(badRole.status, 400);
});

test('a body over the size limit gets 413', async (t) => {
  const { server } = await withServer(t);
  const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
  const r = await call(server, 'POST', '/api/workspaces', { body: big });
  assert.equal(r.status, 413);
  assert.equal(errorCode(r), 'too-large');
  // Without Content-Length (chunked), the limit applies while reading.
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/workspaces',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < 20; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
    req.end();
  });
  assert.equal(chunked, 413);
});

test('TrellisError codes map to HTTP statuses with a JSON error body', async (t) => {
  const { server, peer } = await withServer(t);
  const notFound = await call(server, 'GET', '/api/workspaces/nope/members');
  assert.equal(notFound.status, 404);
  assert.deepEqual(notFound.json, { error: { code: 'not-found', message: 'no workspace "nope"' } });
  assert.match(String(notFound.headers['content-type']), /^application\/json/);

  await peer.createWorkspace('guest-room');
  const forbidden = await call(server, 'POST', '/api/workspaces/guest-room/invites', { body: '{}' });
  assert.equal(forbidden.status, 403);
  assert.equal(errorCode(forbidden), 'forbidden');
  assert.equal((await call(server, 'POST', '/api/join', { body: '{"code":"offline"}' })).status, 503);
  assert.equal((await call(server, 'POST', '/api/join', { body: '{"code":"member"}' })).status, 409);
  assert.equal((await call(server, 'POST', '/api/join', { body: '{"code":"garbage"}' })).status, 400);
});

test('an unexpected error gets 500 with a generic message and one log line without a stack', async (t) => {
  const { server, peer, logs } = await withServer(t);
  await peer.createWorkspace('boom');
  const r = await call(server, 'GET', '/api/workspaces/boom/chat');
  assert.equal(r.status, 500);
  assert.equal(errorCode(r), 'internal');
  assert.doesNotMatch(r.text, /disk on fire/);
  const lines = logs.filter((l) => l.includes('disk on fire'));
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0], /\n|at somewhere/);
});

test('unknown routes get 404 and wrong methods 405, both as JSON', async (t) => {
  const { server } = await withServer(t);
  const unknown = await call(server, 'GET', '/api/nothing-here');
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown), 'not-found');
  const method = await call(server, 'DELETE', '/api/workspaces');
  assert.equal(method.status, 405);
});

test('routes: create, list, invite, join, members, chat, by id or by name', async (t) => {
  const { server, peer } = await withServer(t);
  const created = await call(server, 'POST', '/api/workspaces', { body: '{"name":"team room"}' });
  assert.equal(created.status, 201);
  const { id } = created.json as { id: string };
  assert.deepEqual((await call(server, 'GET', '/api/workspaces')).json, [{ id, name: 'team room', role: 'manager', members: 1 }]);
  const invite = await call(server, 'POST', `/api/workspaces/${encodeURIComponent('team room')}/invites`, { body: '{"role":"guest","expiresInMs":60000}' });
  assert.deepEqual(invite.json, { code: `trellis1-invite-${id}` });
  assert.deepEqual(peer.invites, [{ ws: id, opts: { role: 'guest', expiresInMs: 60000 } }]);
  const joined = await call(server, 'POST', '/api/join', { body: '{"code":"trellis1-x"}' });
  assert.equal(joined.status, 200);
  assert.deepEqual(Object.keys(joined.json as object), ['id']);
  assert.equal(((await call(server, 'GET', `/api/workspaces/${id}/members`)).json as unknown[]).length, 1);
  const sent = await call(server, 'POST', `/api/workspaces/${id}/chat`, { body: '{"text":"hello"}' });
  assert.equal(sent.status, 201);
  assert.equal((sent.json as { text: string }).text, 'hello');
  assert.deepEqual(((await call(server, 'GET', `/api/workspaces/${id}/chat`)).json as { text: string }[]).map((m) => m.text), ['hello']);
});

test('POST /api/shutdown answers, then asks the daemon to stop', async (t) => {
  const { server, shutdowns } = await withServer(t);
  const r = await call(server, 'POST', '/api/shutdown');
  assert.equal(r.status, 202);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(shutdowns.length, 1);
});

test('api.json has mode 0600 and url, token, pid; close() removes it', async (t) => {
  const { server, home } = await withServer(t);
  const path = join(home, 'api.json');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(file, { url: server.url, token: server.token, pid: process.pid });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.token, /^[0-9a-f]{64}$/);
  await server.close();
  assert.equal(existsSync(path), false);
});

test('a non-loopback host is refused before anything listens', async () => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-api-'));
  try {
    for (const host of ['0.0.0.0', '192.168.1.10', 'example.com', '::']) {
      await assert.rejects(startApiServer({ peer: new FakePeer(), home, host, port: 0, log: () => undefined }),
        (err: unknown) => err instanceof TrellisError && err.code === 'invalid' && /loopback/.test(err.message), host);
    }
    assert.equal(existsSync(join(home, 'api.json')), false);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

/** Opens a WebSocket; resolves with it once open, or with the refusal status. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; refused?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 5000 });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => { resolve({ refused: res.statusCode }); ws.terminate(); });
    ws.on('error', (err) => reject(err));
  });
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no event within 5 s')), 5000);
    ws.once('message', (data) => { clearTimeout(timer); resolve(JSON.parse(String(data))); });
  });
}

test('the events WebSocket refuses a client without the token, or from a foreign origin', async (t) => {
  const { server, peer } = await withServer(t);
  const wsUrl = server.url.replace('http:', 'ws:') + '/api/events';
  assert.equal((await openSocket(wsUrl)).refused, 401);
  assert.equal((await openSocket(`${wsUrl}?token=${'0'.repeat(64)}`)).refused, 401);
  assert.equal((await openSocket(`${wsUrl}?token=${server.token}`, { Origin: 'http://evil.example' })).refused, 403);
  assert.equal((await openSocket(server.url.replace('http:', 'ws:') + '/api/other', { Authorization: `Bearer ${server.token}` })).refused, 404);
  assert.equal(peer.listenerCount, 0);
});

test('the events WebSocket streams emitted events to clients with the token (header or query)', async (t) => {
  const { server, peer } = await withServer(t);
  const wsUrl = server.url.replace('http:', 'ws:') + '/api/events';
  const byHeader = (await openSocket(wsUrl, { Authorization: `Bearer ${server.token}` })).ws!;
  const byQuery = (await openSocket(`${wsUrl}?token=${server.token}`, { Origin: server.url })).ws!;
  assert.equal(peer.listenerCount, 2);
  const event: PeerEvent = { type: 'members', workspace: 'w1' };
  const got = [nextMessage(byHeader), nextMessage(byQuery)];
  peer.emit(event);
  assert.deepEqual(await Promise.all(got), [event, event]);
  const closed = new Promise((resolve) => byHeader.once('close', resolve));
  byHeader.close();
  await closed;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(peer.listenerCount, 1);
  // close() ends the remaining socket too.
  const ended = new Promise((resolve) => byQuery.once('close', resolve));
  await server.close();
  await ended;
});

test('the token and message texts never appear in log lines', async (t) => {
  const { server, peer, logs } = await withServer(t);
  const { id } = await peer.createWorkspace('boom');
  const secretText = 'MARKER-secret-chat-text';
  await call(server, 'POST', `/api/workspaces/${id}/chat`, { body: JSON.stringify({ text: secretText }) });
  await call(server, 'GET', `/api/workspaces/${id}/chat`); // 500: logged
  await call(server, 'GET', '/api/status', { token: server.token + 'x' }); // 401: logged
  await call(server, 'GET', `/api/status?token=${server.token}`, { token: null }); // query token is not for HTTP
  await call(server, 'GET', '/api/status', { headers: { host: 'evil.example' } });
  const wsUrl = server.url.replace('http:', 'ws:') + '/api/events';
  await openSocket(`${wsUrl}?token=${server.token}`, { Origin: 'http://evil.example' });
  await openSocket(`${wsUrl}?token=${server.token}x`);
  assert.ok(logs.length >= 5, `expected some log lines, got ${logs.length}`);
  for (const line of logs) {
    assert.ok(!line.includes(server.token), `token in log line: ${line}`);
    assert.ok(!line.includes(secretText), `message text in log line: ${line}`);
    assert.ok(!line.includes('\n'), 'log lines are single lines');
  }
});
