// Calls end to end: two real daemons and two pages in Debian's Chromium with fake camera and
// microphone. Alice starts a video call; Bob sees it in her presence and joins; each page plays
// the other's video, its frames coming over a real WebRTC connection (signalled through the
// daemons); Alice shares her screen and stops; Bob leaves and Alice's page lets go of him. Twice: media directly between the browsers,
// then only through the TURN server of the workspace's relay (both daemons --calls-via-relay).
//
// WebRTC gathers candidates on every network interface, so the test runs in a network namespace
// with nothing but loopback (unshare -n): the daemons, Chromium (--allow-loopback-in-peer-connection)
// and the media stay on 127.0.0.1. Without root (no namespaces) it is skipped, not passed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuilt } from '../../web/scripts/ensure-built.ts';
import { launchBrowser, openPage, until as untilTrue, screenshot, type WatchedPage } from './browser.ts';
import { RelayDaemon } from '../helpers/relays.ts';
import { WebDaemon } from './web-daemon.ts';

const UI_TIMEOUT = 30_000;
const INSIDE = process.env.TRELLIS_LOOPBACK_NETNS === '1';

/** Why this test cannot make its loopback-only namespace here, or undefined. */
function noNamespace(): string | undefined {
  if (INSIDE) return undefined;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root for a network namespace (unshare -n)';
  const probe = spawnSync('unshare', ['-n', 'true']);
  return probe.status === 0 ? undefined : `unshare -n fails here: ${probe.stderr.toString().trim()}`;
}

if (!INSIDE) {
  // Outside: run this very file again inside a fresh namespace with only loopback, and pass or
  // fail with it (its output shows what it checked).
  const why = noNamespace();
  describe('calls: video both ways (two people, then three; directly, then through TURN), in a loopback-only network namespace', { skip: why ?? false }, () => {
    it('runs in its namespace', () => {
      // Without the test runner's own context variable: the inner run reports for people, as a run of its own.
      const env: NodeJS.ProcessEnv = { ...process.env, TRELLIS_LOOPBACK_NETNS: '1' };
      delete env.NODE_TEST_CONTEXT;
      const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" --test --test-reporter=spec "$1"', process.execPath, import.meta.filename], {
        env, encoding: 'utf8', timeout: 240_000,
      });
      // A run that checked nothing is no pass.
      assert.match(r.stdout, /ℹ pass [1-9]/, `the namespace run reported no passing test:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /ℹ skipped 0\n/, 'nothing skipped inside');
      process.stdout.write(r.stdout.split('\n').map((l) => `    ${l}`).join('\n') + '\n');
      assert.equal(r.status, 0, `the calls test failed in its namespace:\n${r.stdout}\n${r.stderr}`);
    });
  });
} else {
  async function api<T>(d: WebDaemon, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${d.api}${path}`, { method, headers: { Authorization: `Bearer ${d.token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json() as T;
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** The video shown under `label` plays frames: dimensions known, time moving. */
  async function playing(p: Page, label: string): Promise<boolean> {
    type V = { videoWidth: number; readyState: number; currentTime: number };
    const v = p.locator(`video[aria-label="${label}"]`);
    if (await v.count() !== 1) return false;
    const first = await v.evaluate((el) => { const x = el as unknown as V; return { w: x.videoWidth, r: x.readyState, t: x.currentTime }; });
    if (first.w === 0 || first.r < 2) return false;
    await new Promise((r) => setTimeout(r, 300));
    const later = await v.evaluate((el) => (el as unknown as V).currentTime);
    return later > first.t;
  }

  const until = (what: string, probe: () => Promise<boolean>, timeoutMs = UI_TIMEOUT) => untilTrue(what, probe, timeoutMs);

  /**
   * One call between Alice and Bob, each on a daemon of their own and a page of their own.
   * `viaRelay`: both daemons make calls only through the TURN server of the workspace's relay
   * (--calls-via-relay), so the media can only flow if that relay's TURN server carries it.
   */
  function callScenario(title: string, viaRelay: boolean, shots: string): void {
    describe(title, { timeout: 200_000 }, () => {
      let alice: WebDaemon;
      let bob: WebDaemon;
      let carol: WebDaemon | undefined;
      let relay: RelayDaemon | undefined;
      let browser: Browser;
      let a: WatchedPage;
      let b: WatchedPage;
      let c: WatchedPage | undefined;

      before(async () => {
        ensureWebBuilt();
        const extra = viaRelay ? ['--calls-via-relay'] : [];
        [alice, bob, browser] = await Promise.all([
          WebDaemon.start('alice', { name: 'Alice', extra }), WebDaemon.start('bob', { name: 'Bob', extra }),
          launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection', '--auto-select-desktop-capture-source=Entire screen']),
        ]);
        const ws = (await api<{ id: string }>(alice, 'POST', '/api/workspaces', { name: 'Launch' })).id;
        await api(alice, 'POST', '/api/workspaces', { name: 'Side' }); // somewhere else to look at during the call
        if (viaRelay) {
          relay = await RelayDaemon.create({ extra: ['--turn-port', '3478', '--turn-host', '127.0.0.1'] });
          await relay.start();
          await api(alice, 'POST', `/api/workspaces/${ws}/relays`, { address: relay.addr });
        }
        const { code } = await api<{ code: string }>(alice, 'POST', `/api/workspaces/${ws}/invites`, { role: 'participant' });
        await api(bob, 'POST', '/api/join', { code });
        if (viaRelay) {
          for (const d of [alice, bob]) {
            await until(`${d.label} gets TURN credentials from the relay`, async () => (await api<{ iceServers: unknown[] }>(d, 'GET', `/api/workspaces/${ws}/calls/servers`)).iceServers.length === 1);
          }
        }
        // A third person in the direct call: the mesh grows to three connections.
        if (!viaRelay) {
          carol = await WebDaemon.start('carol', { name: 'Carol' });
          await api(carol, 'POST', '/api/join', { code: (await api<{ code: string }>(alice, 'POST', `/api/workspaces/${ws}/invites`, { role: 'participant' })).code });
          c = await openPage(browser, 'carol');
        }
        [a, b] = await Promise.all([openPage(browser, 'alice'), openPage(browser, 'bob')]);
        for (const [p, d] of [[a, alice], [b, bob], ...(c && carol ? [[c, carol] as const] : [])] as const) {
          await p.context.grantPermissions(['camera', 'microphone']);
          await p.page.goto(d.web);
          // Carol stays on her home page: a call starting in Launch must reach her there.
          if (p !== c) await p.page.getByRole('link', { name: /Launch/ }).click();
        }
      });

      after(async () => {
        await browser?.close();
        await Promise.all([alice?.stop(), bob?.stop(), carol?.stop(), relay?.destroy()]);
      });

      it('Alice starts a video call; Bob sees it in her presence and joins', async () => {
        await a.page.getByRole('button', { name: 'Start a video call' }).click();
        // Elsewhere in the app, the call is announced.
        if (c) await c.page.getByText('Alice started a call in Launch').waitFor({ timeout: UI_TIMEOUT });
        await until('Alice sees her own camera', () => playing(a.page, 'Video of Alice (you)'));
        await b.page.getByRole('button', { name: 'Join call' }).waitFor({ timeout: UI_TIMEOUT });
        assert.match(await b.page.getByRole('region', { name: 'Call' }).innerText(), /Alice in a call/);
        await until('Bob\'s members pane shows Alice in a call', async () => /in a call/.test(await b.page.locator('li.member[data-member="Alice"]').innerText()));
        await b.page.getByRole('button', { name: 'Join call' }).click();
        // Carol, elsewhere in the app, has the workspace marked (she was told when it started).
        if (c) await c.page.getByRole('link', { name: /Launch/ }).getByLabel('call: Alice').waitFor({ timeout: UI_TIMEOUT });
      });

      it('each page plays the other\'s video over a WebRTC connection', async () => {
        await until('Bob\'s video at Alice', () => playing(a.page, 'Video of Bob'));
        await until('Alice\'s video at Bob', () => playing(b.page, 'Video of Alice'));
        // A remote stream gets frames only over its peer connection; both show it connected.
        for (const p of [a.page, b.page]) {
          await until('the connection shown as connected', async () => (await p.locator('.call-tile figcaption').allInnerTexts()).every((t) => !t.includes('·')));
        }
        await screenshot(a.page, `${shots}-alice`);
        await screenshot(b.page, `${shots}-bob`);
      });

      it('Alice shares her screen: Bob sees it instead of her camera, then her camera again', async () => {
        // The shape of what Bob receives (the sender may scale it down, never reshape it).
        const shape = (p: Page, label: string) => p.locator(`video[aria-label="${label}"]`).evaluate((el) => {
          const v = el as unknown as { videoWidth: number; videoHeight: number };
          return v.videoHeight > 0 ? v.videoWidth / v.videoHeight : 0;
        });
        const camera = await shape(b.page, 'Video of Alice');
        // Chromium's fake screen is 16:9 (1280 × 720); its fake camera is 4:3 (640 × 480).
        assert.ok(Math.abs(camera - 4 / 3) < 0.05, `the camera's shape at Bob: ${camera}`);
        await a.page.getByRole('button', { name: 'Share screen' }).click();
        await a.page.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: UI_TIMEOUT });
        await until('the screen at Bob', async () => Math.abs((await shape(b.page, 'Video of Alice')) - 16 / 9) < 0.05 && playing(b.page, 'Video of Alice'));
        await screenshot(b.page, `${shots}-screen`);
        await a.page.getByRole('button', { name: 'Stop sharing' }).click();
        await until('the camera at Bob again', async () => Math.abs((await shape(b.page, 'Video of Alice')) - 4 / 3) < 0.05 && playing(b.page, 'Video of Alice'));
      });

      it('Alice looks at another workspace and comes back: the call goes on', async () => {
        await a.page.getByRole('link', { name: /Side/ }).click();
        const bar = a.page.getByRole('region', { name: 'Call' });
        await bar.getByText('You are in a call in Launch').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await a.page.locator('video').count(), 0, 'no call view in the other workspace');
        await new Promise((r) => setTimeout(r, 1000));
        await until('Bob still plays Alice', () => playing(b.page, 'Video of Alice'));
        await bar.getByRole('button', { name: 'Back to the call' }).click();
        await until('Alice plays Bob again', () => playing(a.page, 'Video of Bob'));
      });

      // (Two people are enough to prove the relay path.)
      if (!viaRelay) it('a third member joins with audio only, then shares her screen: everyone gets everyone', async () => {
        const cp = c!.page;
        await cp.getByRole('link', { name: /Launch/ }).click();
        await cp.getByRole('button', { name: 'Join call' }).waitFor({ timeout: UI_TIMEOUT });
        assert.match(await cp.getByRole('region', { name: 'Call' }).innerText(), /Alice, Bob in a call|Bob, Alice in a call/);
        // Carol has no camera on: audio only.
        await cp.getByRole('button', { name: 'Join with audio only' }).click();
        for (const [p, others] of [[a.page, ['Bob']], [b.page, ['Alice']], [cp, ['Alice', 'Bob']]] as const) {
          for (const o of others) await until(`${o}'s video in a page of three`, () => playing(p, `Video of ${o}`));
        }
        for (const p of [a.page, b.page]) await p.locator('video[aria-label="Audio of Carol"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
        await until('Carol\'s own row says she is in the call', async () => /in a call/.test(await cp.locator('li.member[data-member="Carol"]').innerText()));
        // She shares her screen: a video track joins her audio-only connections (negotiated again).
        await cp.getByRole('button', { name: 'Share screen' }).click();
        for (const p of [a.page, b.page]) await until('Carol\'s screen', () => playing(p, 'Video of Carol'));
        await screenshot(cp, `${shots}-carol`);
        await cp.getByRole('button', { name: 'Leave call' }).click();
        await a.page.locator('video[aria-label="Video of Carol"]').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      });

      it('muting is shown on the button; Bob leaves and Alice\'s page lets go of him', async () => {
        await b.page.getByRole('button', { name: 'Mute' }).click();
        await b.page.getByRole('button', { name: 'Unmute' }).waitFor();
        await b.page.getByRole('button', { name: 'Leave call' }).click();
        await b.page.getByRole('button', { name: 'Join call' }).waitFor({ timeout: UI_TIMEOUT });
        await a.page.locator('video[aria-label="Video of Bob"]').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
        await a.page.getByText('Waiting for others to join…').waitFor({ timeout: UI_TIMEOUT });
        await a.page.getByRole('button', { name: 'Leave call' }).click();
        await a.page.getByRole('button', { name: 'Start a video call' }).waitFor({ timeout: UI_TIMEOUT });
      });

      it('no console errors or warnings in either page', () => {
        assert.deepEqual([...a.problems, ...b.problems, ...(c?.problems ?? [])], []);
      });
    });
  }

  callScenario('a call, media directly between the browsers', false, 'call-direct');
  callScenario('a call through the relay\'s TURN server only (--calls-via-relay)', true, 'call-turn');
}
