// The calls API of a real daemon: POST /calls/signal refuses bad input with one sentence each and
// says when no member is connected to carry a signal; the call named in our presence is given up
// once no page of ours has been connected to /api/events for a while (a crashed browser says
// nothing), and kept across a short break.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { readApiFile } from '../../src/daemon/api-file.ts';
import { aliceAndBobInTeam } from '../helpers/daemons.ts';

const CALL = 'ef'.repeat(16);

test('calls API: signal errors; our call is given up 10 s after the last page left, kept across a short break', { timeout: 60_000 }, async (t) => {
  const { a, b, id } = await aliceAndBobInTeam(t);
  const api = readApiFile(a.home)!;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, { method, headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: await res.json() as { error?: { message: string } } & Record<string, unknown> };
  };
  const bobKey = (await a.json<{ name: string; key: string }[]>('members', 'Team')).find((m) => m.name === 'bob')!.key;
  const signal = `/api/workspaces/${id}/calls/signal`;
  const bye = { call: CALL, type: 'bye' };

  assert.deepEqual((await call('POST', signal, { to: bobKey, signal: bye })).json, { sent: true });
  const bad: [unknown, number, RegExp][] = [
    [{ to: 'nope', signal: bye }, 400, /to: must be a member's key/],
    [{ to: bobKey, signal: { call: CALL, type: 'offer' } }, 400, /invalid call signal: an offer carries sdp/],
    [{ to: bobKey, signal: bye, extra: 1 }, 400, /invalid request body/],
    [{ to: 'ab'.repeat(32), signal: bye }, 404, /no member with that key/],
  ];
  for (const [body, status, why] of bad) {
    const r = await call('POST', signal, body);
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.match(r.json.error!.message, why);
  }

  // A page of ours is in a call.
  const connect = () => new Promise<WebSocket>((ok, fail) => {
    const ws = new WebSocket(`ws://${new URL(api.url).host}/api/events`, { headers: { Authorization: `Bearer ${api.token}` } });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
  const myCall = async () => (await a.json<{ name: string; call?: string }[]>('members', 'Team')).find((m) => m.name === 'alice')!.call;
  let page = await connect();
  assert.deepEqual((await call('POST', `/api/workspaces/${id}/presence`, { call: CALL })).json, { ok: true });
  assert.equal(await myCall(), CALL);
  assert.equal((await call('POST', `/api/workspaces/${id}/presence`, { call: 'x' })).status, 400);
  // A short break: the call stays.
  page.close();
  await new Promise((r) => setTimeout(r, 2000));
  page = await connect();
  await new Promise((r) => setTimeout(r, 9000));
  assert.equal(await myCall(), CALL, 'kept across a 2 s break');
  // The page is gone for good: 10 s later, so is the call.
  page.close();
  const closed = Date.now();
  while (await myCall() === CALL) {
    assert.ok(Date.now() - closed < 20_000, 'the call is still named 20 s after the last page left');
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(Date.now() - closed >= 9_000, 'not before the grace period');

  // Bob's daemon stops: nobody carries signals any more.
  await b.stop();
  const alone = await (async () => {
    for (let i = 0; i < 40; i++) {
      const r = await call('POST', signal, { to: bobKey, signal: bye });
      if (r.status === 503) return r;
      await new Promise((res) => setTimeout(res, 250));
    }
    return undefined;
  })();
  assert.match(alone?.json.error?.message ?? '', /no member of this workspace is connected/);
});
