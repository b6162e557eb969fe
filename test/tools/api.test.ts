// The tool routes of the daemon API over a real Peer: bodies are validated, ids never trusted,
// errors are one-line JSON with the right status; a stand-in without documents answers 503.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../src/daemon/api-server.ts';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { FakePeer } from '../daemon/fake-peer.ts';

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Record<string, unknown> & { error?: { code: string; message: string } } }>;

function caller(url: string, token: string): Call {
  return async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() as never };
  };
}

test('tool routes validate everything and map errors to statuses', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-tools-api-'));
  createIdentity(home, 'alice');
  const peer = await Peer.start({ home, mdns: false, log: () => {} });
  const server = await startApiServer({ peer, home, port: 0, log: () => {} });
  t.after(async () => { await server.close(); await peer.stop(); rmSync(home, { recursive: true, force: true }); });
  const call = caller(server.url, server.token);
  await peer.createWorkspace('Team');

  assert.deepEqual((await call('GET', '/api/tool-types')).json, [
    { type: 'notes', description: 'rich-text notes (Markdown in the CLI)' },
    { type: 'tasks', description: 'task lists: assignee, due date, status, comments' },
    { type: 'calendar', description: 'calendars: events with time, place, attendees, agenda; .ics export and import' },
    { type: 'discussion', description: 'threaded discussions with reactions and unread markers' },
  ]);
  const added = await call('POST', '/api/workspaces/Team/tools', { type: 'notes', name: 'Design' });
  assert.equal(added.status, 201);
  assert.deepEqual(Object.keys(added.json).sort(), ['createdAt', 'createdBy', 'id', 'name', 'type']);
  const note = added.json.id as string;
  assert.equal((await call('POST', '/api/workspaces/Team/tools', { type: 'tasks', name: 'Todo' })).status, 201);

  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', '/api/workspaces/Team/tools', { type: 'notes' }, 400, /invalid request body: name/],
    ['POST', '/api/workspaces/Team/tools', '{not json', 400, /JSON/i],
    ['POST', '/api/workspaces/Nope/tools', { type: 'notes', name: 'x' }, 404, /no workspace "Nope"/],
    ['GET', '/api/workspaces/Team/tools/Nope/markdown', undefined, 404, /no tool "Nope"/],
    ['GET', `/api/workspaces/Team/tools/${note}/tasks`, undefined, 400, /is a notes tool, not a tasks tool/],
    ['POST', '/api/workspaces/Team/tools/Design/markdown', { markdown: 1, mode: 'replace' }, 400, /markdown/],
    ['POST', '/api/workspaces/Team/tools/Design/markdown', { markdown: '# x', mode: 'merge' }, 400, /mode: must be "replace" or "append"/],
    ['GET', '/api/workspaces/Team/tools/Design/markdown?at=yesterday', undefined, 400, /is not a time/],
    ['POST', '/api/workspaces/Team/tools/Todo/tasks/..%2F..%2Fx', { status: 'done' }, 400, /is not a task id/],
    ['POST', '/api/workspaces/Team/tools/Todo/tasks', { title: 'x', due: '2026-02-30' }, 400, /is not a date/],
    ['POST', '/api/workspaces/Team/tools/Todo/tasks', { title: ['x'] }, 400, /title/],
    ['DELETE', '/api/workspaces/Team/tools/Todo/tasks', undefined, 405, /use GET or POST/],
    ['GET', '/api/workspaces/Team/history?tool=Nope', undefined, 404, /no tool "Nope"/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
    assert.match(r.json.error!.message, message, `${method} ${path}`);
    assert.doesNotMatch(r.json.error!.message, /\n/);
  }
  assert.equal((await call('POST', '/api/workspaces/Team/tools/Design/markdown', { markdown: '# Hello\n', mode: 'replace' })).status, 200);
  assert.deepEqual((await call('GET', `/api/workspaces/Team/tools/${note}/markdown`)).json, { markdown: '# Hello\n' });
  const history = (await call('GET', '/api/workspaces/Team/history?tool=Design')).json as unknown as { tool: string }[];
  assert.equal(history.length, 1);
  assert.equal(history[0].tool, note);
  assert.equal((await call('POST', '/api/workspaces/Team/tools/Design/remove', {})).status, 200);
  assert.equal((await call('GET', '/api/workspaces/Team/tools/Design/markdown')).status, 404);
});

test('a daemon without documents answers the tool routes with 503', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-tools-api-'));
  const server = await startApiServer({ peer: new FakePeer(), home, port: 0, log: () => {} });
  t.after(async () => { await server.close(); rmSync(home, { recursive: true, force: true }); });
  const r = await caller(server.url, server.token)('GET', '/api/workspaces/x/tools');
  assert.equal(r.status, 503);
  assert.match(r.json.error!.message, /serves no tools/);
});
