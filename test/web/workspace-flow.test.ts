// The web UI end to end: two real daemons, two browser contexts in Debian's Chromium.
// Alice onboards in the browser (her daemon starts without --name), creates a workspace, adds
// tools and invites; Bob joins by pasting the code; they chat; they type into the same note at
// once; a file goes from Alice to Bob; Bob drags a task to done; Alice removes Bob. Screenshots of
// the main screens go to artifacts/. Every page's console must stay free of errors and warnings.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuilt } from '../../web/scripts/ensure-built.ts';
import { launchBrowser, openPage, until as untilTrue, readClipboard, screenshot, writeClipboard, type WatchedPage } from './browser.ts';
import { WebDaemon } from './web-daemon.ts';

const UI_TIMEOUT = 20_000;

let alice: WebDaemon;
let bob: WebDaemon;
let browser: Browser;
let a: WatchedPage;
let b: WatchedPage;
const extraPages: WatchedPage[] = [];
let files: string;
let capabilities: Set<string>;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const until = (what: string, probe: () => Promise<boolean>, timeoutMs = UI_TIMEOUT) => untilTrue(what, probe, timeoutMs);

const chatLog = (p: Page) => p.locator('.chat-log');
async function addTool(p: Page, kind: string, name: string): Promise<void> {
  await p.getByRole('button', { name: 'Add tool' }).click();
  const dialog = p.getByRole('dialog', { name: 'Add a tool' });
  await dialog.getByText(kind, { exact: true }).click();
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Add tool' }).click();
  await p.getByRole('tab', { name }).waitFor();
}

const messageBox = (p: Page) => p.getByRole('textbox', { name: 'Message', exact: true });
const editor = (p: Page) => p.getByRole('textbox', { name: 'Note: Plan' });

/** The note's text without the other editors' carets (their name labels sit inside the text). */
function noteText(p: Page): Promise<string> {
  type El = { cloneNode(deep: boolean): El; querySelectorAll(s: string): { forEach(f: (n: { remove(): void }) => void): void }; textContent: string | null };
  return editor(p).evaluate((el) => {
    const copy = (el as unknown as El).cloneNode(true);
    copy.querySelectorAll('.collaboration-carets__caret').forEach((n) => n.remove());
    return copy.textContent ?? '';
  });
}

describe('web UI: two people, two daemons', { timeout: 240_000 }, () => {
  before(async () => {
    ensureWebBuilt();
    files = mkdtempSync(join(tmpdir(), 'trellis-web-files-'));
    [alice, bob, browser] = await Promise.all([WebDaemon.start('alice'), WebDaemon.start('bob', { name: 'Bob' }), launchBrowser()]);
    [a, b] = await Promise.all([openPage(browser, 'alice'), openPage(browser, 'bob')]);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([alice?.stop(), bob?.stop()]);
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('Alice onboards: her daemon started without a name asks for one', async () => {
    await a.page.goto(alice.web);
    // The token leaves the address bar at once.
    await until('the token to leave the URL', async () => !a.page.url().includes('token'));
    const name = a.page.getByLabel('Your display name');
    await name.waitFor();
    await screenshot(a.page, '01-onboarding');
    await name.fill('Alice');
    await a.page.getByRole('button', { name: 'Continue' }).click();
    await a.page.getByRole('heading', { name: 'Hello, Alice' }).waitFor({ timeout: UI_TIMEOUT });
    await alice.peerStarted();
    await screenshot(a.page, '02-home-empty');
    capabilities = new Set((await a.page.evaluate(async () => {
      const r = await fetch('/api/capabilities', { headers: { 'X-Trellis-Request': '1' } });
      return (await r.json() as { routes: string[] }).routes;
    })));
  });

  it('Alice creates a workspace, adds a note and a task board, and invites', async () => {
    const p = a.page;
    await p.getByRole('button', { name: 'New workspace' }).first().click();
    await p.getByRole('dialog', { name: 'New workspace' }).getByLabel('Name').fill('Launch');
    await p.getByRole('button', { name: 'Create workspace' }).click();
    await p.getByRole('heading', { name: 'Launch', level: 1 }).waitFor();

    await addTool(p, 'Notes', 'Plan');
    await addTool(p, 'Task board', 'Board');

    await p.getByRole('button', { name: 'Invite' }).click();
    await p.getByRole('button', { name: 'Create invitation' }).click();
    const code = p.getByLabel('Invitation code');
    await code.waitFor();
    assert.match(await code.inputValue(), /^trellis1-/);
    await p.getByRole('img', { name: 'QR code of the invitation' }).waitFor();
    await screenshot(p, '03-invite');
    await p.getByRole('button', { name: 'Copy code' }).click();
    await p.getByRole('button', { name: 'Copied ✓' }).waitFor();
    await p.getByRole('button', { name: 'Done' }).click();

    // A second code, for a guest, revoked from the same dialog: it shows as revoked, the first
    // (Bob's, below) stays open.
    await p.getByRole('button', { name: 'Invite' }).click();
    await p.getByRole('dialog').locator('label.segment', { hasText: /^guest$/ }).click();
    assert.equal(await p.getByRole('radio', { name: 'guest' }).isChecked(), true);
    await p.getByRole('button', { name: 'Create invitation' }).click();
    await p.getByLabel('Invitation code').waitFor();
    await p.getByRole('button', { name: 'Done' }).click();
    await p.getByRole('button', { name: 'Invite' }).click();
    const issued = p.getByRole('region', { name: 'Invitations you issued' });
    await issued.getByRole('listitem').nth(1).waitFor();
    assert.equal(await issued.getByRole('listitem').count(), 2);
    const guestRow = issued.getByRole('listitem').filter({ hasText: 'guest' });
    await guestRow.getByRole('button', { name: /^Revoke invitation/ }).click();
    await guestRow.getByText('revoked').waitFor();
    assert.equal(await guestRow.getByRole('button').count(), 0, 'a revoked invitation has no Revoke button');
    assert.equal(await issued.getByRole('listitem').filter({ hasText: 'participant' }).getByRole('button', { name: /^Revoke invitation/ }).count(), 1);
    await screenshot(p, '03b-invitations');
    await p.getByRole('button', { name: 'Cancel' }).click();
  });

  it('Bob joins by pasting the code', async () => {
    const code = await readClipboard(a.page);
    assert.match(code, /^trellis1-/);
    const p = b.page;
    await p.goto(bob.web);
    await p.getByRole('heading', { name: 'Hello, Bob' }).waitFor({ timeout: UI_TIMEOUT });
    await p.getByRole('button', { name: 'Join with a code' }).first().click();
    const field = p.getByRole('dialog', { name: 'Join a workspace' }).getByLabel('Invitation code');
    await writeClipboard(p, code);
    await field.focus();
    await p.keyboard.press('ControlOrMeta+V');
    assert.equal(await field.inputValue(), code);
    await p.getByRole('button', { name: 'Join', exact: true }).click();
    await p.getByRole('heading', { name: 'Launch', level: 1 }).waitFor({ timeout: 60_000 });
    // Both see each other online.
    await p.locator('li.member[data-member="Alice"]').getByText(/online|in /).first().waitFor({ timeout: UI_TIMEOUT });
    await a.page.locator('li.member[data-member="Bob"]').waitFor({ timeout: UI_TIMEOUT });
  });

  it('they chat, live, without reloading', async () => {
    await messageBox(a.page).fill('Hello Bob, welcome to Launch!');
    await messageBox(a.page).press('Enter');
    await chatLog(b.page).getByText('Hello Bob, welcome to Launch!').waitFor({ timeout: UI_TIMEOUT });
    await messageBox(b.page).fill('Thanks Alice, glad to be here.');
    await b.page.getByRole('button', { name: 'Send message' }).click();
    await chatLog(a.page).getByText('Thanks Alice, glad to be here.').waitFor({ timeout: UI_TIMEOUT });
    await screenshot(a.page, '04-workspace-chat');
    // Away from the workspace, Bob sees an unread count; opening it clears the count.
    await b.page.getByRole('link', { name: 'Trellis' }).click();
    await messageBox(a.page).fill('Are you still there?');
    await messageBox(a.page).press('Enter');
    const badge = b.page.getByRole('link', { name: /Launch/ }).getByLabel('1 unread');
    await badge.waitFor({ timeout: UI_TIMEOUT });
    await screenshot(b.page, '04-home-unread');
    await b.page.getByRole('link', { name: /Launch/ }).click();
    await chatLog(b.page).getByText('Are you still there?').waitFor();
    await badge.waitFor({ state: 'detached' });
  });

  it('they type into the same note at the same time and both see the merged text', async () => {
    await Promise.all([a.page.getByRole('tab', { name: 'Plan' }).click(), b.page.getByRole('tab', { name: 'Plan' }).click()]);
    await Promise.all([editor(a.page).waitFor({ timeout: UI_TIMEOUT }), editor(b.page).waitFor({ timeout: UI_TIMEOUT })]);
    await editor(a.page).click();
    await editor(b.page).click();
    const fromAlice = 'Alice drafts the launch plan.';
    const fromBob = 'Bob adds the press list.';
    await Promise.all([a.page.keyboard.type(fromAlice, { delay: 25 }), b.page.keyboard.type(fromBob, { delay: 25 })]);
    let texts: string[] = [];
    await until('both editors to show both texts, identically', async () => {
      texts = await Promise.all([noteText(a.page), noteText(b.page)]);
      return texts.every((t) => t.includes(fromAlice) && t.includes(fromBob)) && texts[0] === texts[1];
    });
    await screenshot(a.page, '05-notes-alice');
    await screenshot(b.page, '05-notes-bob');
  });

  it('a second window of the same person shows the first one\'s cursor with the name', async () => {
    const second = await openPage(browser, 'alice-2');
    extraPages.push(second);
    // A new context has no session: it signs in with the start link, as a user's second browser would.
    await second.page.goto(alice.web);
    await second.page.getByRole('heading', { name: 'Hello, Alice' }).waitFor({ timeout: UI_TIMEOUT });
    const ws = new URL(a.page.url()).pathname;
    await second.page.goto(new URL(ws, alice.api).href);
    await editor(second.page).waitFor({ timeout: UI_TIMEOUT });
    await editor(second.page).click();
    await second.page.keyboard.press('End');
    await second.page.keyboard.type(' (second window)', { delay: 10 });
    await a.page.locator('.collaboration-carets__label', { hasText: 'Alice' }).waitFor({ timeout: UI_TIMEOUT });
    await screenshot(a.page, '06-notes-local-cursor');
  });

  it('each sees the other\'s cursor, with the name, across daemons', async () => {
    // Cursors cross daemons on the presence channel; moving them makes both send a fresh one.
    await editor(b.page).click();
    await b.page.keyboard.press('End');
    await editor(a.page).click();
    await a.page.keyboard.press('Home');
    await a.page.locator('.collaboration-carets__label', { hasText: 'Bob' }).waitFor({ timeout: UI_TIMEOUT });
    await b.page.locator('.collaboration-carets__label', { hasText: 'Alice' }).first().waitFor({ timeout: UI_TIMEOUT });
    await screenshot(b.page, '06-notes-remote-cursor');
  });

  it('Alice shares a file from a path on her computer and Bob saves it: the same bytes', async () => {
    const bytes = randomBytes(600 * 1024);
    const source = join(files, 'launch-brief.bin');
    const dest = join(files, 'bob-copy.bin');
    writeFileSync(source, bytes);
    await Promise.all([a.page.getByRole('tab', { name: 'Files' }).click(), b.page.getByRole('tab', { name: 'Files' }).click()]);
    const add = a.page.locator('details.add-path');
    if (!(await add.evaluate((d) => (d as unknown as { open: boolean }).open))) await add.locator('summary').click();
    await add.getByLabel('Path').fill(source);
    await add.getByRole('button', { name: 'Add' }).click();
    await a.page.locator('tr[data-file="launch-brief.bin"]').waitFor({ timeout: UI_TIMEOUT });
    const row = b.page.locator('tr[data-file="launch-brief.bin"]');
    await row.waitFor({ timeout: UI_TIMEOUT });
    await row.getByRole('button', { name: 'Save to…' }).click();
    await b.page.getByLabel('Save “launch-brief.bin” to this path').fill(dest);
    await b.page.getByRole('button', { name: 'Save', exact: true }).click();
    await until('the file to be saved', async () => existsSync(dest) && readFileSync(dest).length === bytes.length, 60_000);
    assert.equal(sha256(readFileSync(dest)), sha256(bytes));
    await screenshot(b.page, '07-files');
  });

  it('Alice uploads a file in the browser and Bob downloads it: the same bytes', async () => {
    assert.ok(capabilities.has('POST /api/workspaces/:ws/files/upload'), 'the daemon has no upload route');
    assert.ok(capabilities.has('GET /api/workspaces/:ws/files/download'), 'the daemon has no download route');
    const bytes = randomBytes(300 * 1024);
    await a.page.getByTestId('file-picker').setInputFiles({ name: 'uploaded.bin', mimeType: 'application/octet-stream', buffer: bytes });
    const row = b.page.locator('tr[data-file="uploaded.bin"]');
    await row.waitFor({ timeout: UI_TIMEOUT });
    const [download] = await Promise.all([b.page.waitForEvent('download'), row.getByRole('link', { name: 'Download' }).click()]);
    const saved = join(files, 'downloaded.bin');
    await download.saveAs(saved);
    assert.equal(sha256(readFileSync(saved)), sha256(bytes));
  });

  it('Bob drags a task to done and Alice sees it', async () => {
    await Promise.all([a.page.getByRole('tab', { name: 'Board' }).click(), b.page.getByRole('tab', { name: 'Board' }).click()]);
    await a.page.getByLabel('Task title').fill('Write the announcement');
    await a.page.getByRole('button', { name: 'Add', exact: true }).click();
    await a.page.getByLabel('Task title').fill('Book the venue');
    await a.page.getByRole('button', { name: 'Add', exact: true }).click();
    const card = b.page.locator('li.task-card[data-task="Write the announcement"]');
    await card.waitFor({ timeout: UI_TIMEOUT });
    // Grab the card by its edge, as a person would (the title is a button that opens the card).
    await card.dragTo(b.page.locator('section.column[data-status="done"]'), { sourcePosition: { x: 4, y: 4 } });
    await b.page.locator('section.column[data-status="done"] li.task-card[data-task="Write the announcement"]').waitFor({ timeout: UI_TIMEOUT });
    await a.page.locator('section.column[data-status="done"] li.task-card[data-task="Write the announcement"]').waitFor({ timeout: UI_TIMEOUT });
    await screenshot(a.page, '08-tasks');
  });

  it('calendar: Alice adds an event, Bob sees it in the month and week views', async () => {
    await addTool(a.page, 'Calendar', 'Calendar');
    await a.page.getByRole('button', { name: 'New event', exact: true }).click();
    const dialog = a.page.getByRole('dialog', { name: 'New event' });
    await dialog.getByLabel('Title').fill('Launch day');
    await dialog.getByLabel('Place').fill('Main hall');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await a.page.getByRole('button', { name: /Launch day/ }).waitFor({ timeout: UI_TIMEOUT });
    await screenshot(a.page, '09-calendar-month');
    await b.page.getByRole('tab', { name: 'Calendar' }).click();
    await b.page.getByRole('button', { name: /Launch day/ }).waitFor({ timeout: UI_TIMEOUT });
    await b.page.getByRole('button', { name: 'Week', exact: true }).click();
    await b.page.getByRole('button', { name: /Launch day/ }).waitFor();
    await screenshot(b.page, '10-calendar-week');
  });

  it('discussion: Alice opens a topic, Bob sees it unread and replies, Alice sees the reply', async () => {
    await addTool(a.page, 'Discussion', 'Ideas');
    await a.page.getByRole('button', { name: 'New topic' }).click();
    await a.page.getByLabel('Title').fill('Tagline ideas');
    await a.page.getByLabel('Opening post').fill('What should the launch tagline be?');
    await a.page.getByRole('button', { name: 'Post topic' }).click();
    await a.page.getByRole('heading', { name: 'Tagline ideas' }).waitFor({ timeout: UI_TIMEOUT });
    await b.page.getByRole('tab', { name: 'Ideas' }).click();
    const topic = b.page.getByRole('button', { name: /Tagline ideas/ });
    await topic.getByLabel('1 unread').waitFor({ timeout: UI_TIMEOUT });
    await topic.click();
    await b.page.getByPlaceholder('Reply to the topic…').fill('“Grow together.”');
    await b.page.getByRole('button', { name: 'Post', exact: true }).click();
    await a.page.getByText('“Grow together.”').waitFor({ timeout: UI_TIMEOUT });
    await a.page.getByRole('button', { name: '👍 0' }).last().click();
    await a.page.getByRole('button', { name: '👍 1' }).waitFor({ timeout: UI_TIMEOUT });
    await screenshot(a.page, '11-discussion');
  });

  it('the other screens render (history, settings, narrow window)', async () => {
    await a.page.getByRole('tab', { name: 'History' }).click();
    await a.page.locator('.history-row').first().waitFor({ timeout: UI_TIMEOUT });
    // Verifying the history shows its fingerprint: Bob's daemon, holding the same entries, has the same.
    await a.page.getByRole('button', { name: 'Verify history' }).click();
    const shown = (await a.page.getByLabel('History fingerprint').innerText()).replace(/ /g, '');
    assert.match(await a.page.getByRole('region', { name: 'Verify history' }).innerText(), /every signature, hash chain and dependency holds/);
    const fingerprintAt = async (d: WebDaemon) => ((await (await fetch(`${d.api}/api/workspaces/${encodeURIComponent('Launch')}/verify`, { headers: { Authorization: `Bearer ${d.token}` } })).json()) as { fingerprint: string }).fingerprint;
    assert.equal(await fingerprintAt(alice), shown);
    await until('Bob holds the same history', async () => (await fingerprintAt(bob)) === shown);
    await screenshot(a.page, '12-history');
    await a.page.getByRole('tab', { name: 'Settings' }).click();
    await a.page.getByRole('heading', { name: 'Permissions' }).waitFor();
    await screenshot(a.page, '13-settings');
    await a.page.emulateMedia({ colorScheme: 'dark' });
    await a.page.getByRole('tab', { name: 'Board' }).click();
    await screenshot(a.page, '13-dark-tasks');
    await a.page.emulateMedia({ colorScheme: 'light' });
    // Bob is no manager: no settings, no invite.
    assert.equal(await b.page.getByRole('tab', { name: 'Settings' }).count(), 0);
    assert.equal(await b.page.getByRole('button', { name: 'Invite' }).count(), 0);

    const narrow = await openPage(browser, 'alice-narrow', { width: 390, height: 800 });
    extraPages.push(narrow);
    await narrow.page.goto(alice.web);
    await narrow.page.getByRole('heading', { name: 'Hello, Alice' }).waitFor({ timeout: UI_TIMEOUT });
    await narrow.page.goto(new URL(new URL(a.page.url()).pathname.replace(/\/[^/]+$/, ''), alice.api).href);
    await narrow.page.getByRole('heading', { name: 'Launch', level: 1 }).waitFor({ timeout: UI_TIMEOUT });
    await editor(narrow.page).waitFor({ timeout: UI_TIMEOUT });
    await screenshot(narrow.page, '14-narrow-workspace');
    await narrow.page.getByRole('button', { name: 'Chat', exact: true }).click();
    await chatLog(narrow.page).getByText('Hello Bob').waitFor();
    await screenshot(narrow.page, '15-narrow-chat');
    await narrow.page.getByRole('button', { name: 'Open the workspace list' }).click();
    // Let the drawer finish sliding in.
    // A function, not a string: the daemon's CSP forbids eval in the page (a string would be refused).
    await narrow.page.locator('#sidebar').evaluate((el) => new Promise<void>((done) => {
      const g = globalThis as unknown as { getComputedStyle(e: unknown): { transform: string }; setTimeout(f: () => void, ms: number): void };
      const check = (): void => { if (g.getComputedStyle(el).transform === 'none') done(); else g.setTimeout(check, 20); };
      check();
    }));
    await screenshot(narrow.page, '16-narrow-drawer');
  });

  it('Alice removes Bob, and Bob\'s UI shows he was removed', async () => {
    const row = a.page.locator('li.member[data-member="Bob"]');
    await row.locator('summary').click();
    await row.getByRole('button', { name: 'Remove from workspace…' }).click();
    await row.getByRole('button', { name: 'Remove Bob' }).click();
    await b.page.getByRole('heading', { name: 'You are no longer a member of “Launch”' }).waitFor({ timeout: 30_000 });
    await a.page.locator('li.member[data-member="Bob"]').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await screenshot(b.page, '17-removed');
  });

  it('Bob deletes the workspace from his device: it leaves his list, and stays gone', async () => {
    await b.page.getByRole('button', { name: 'Delete from this device…' }).click();
    await b.page.getByRole('button', { name: 'Delete “Launch”' }).click();
    await b.page.getByRole('heading', { name: 'Start a workspace' }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await b.page.getByRole('link', { name: /Launch/ }).count(), 0, 'not in the sidebar');
    const list = await (await fetch(`${bob.api}/api/workspaces`, { headers: { Authorization: `Bearer ${bob.token}` } })).json() as unknown[];
    assert.deepEqual(list, []);
    await screenshot(b.page, '18-deleted');
  });

  it('no console errors or warnings in any page; the token reached no log', () => {
    const problems = [...a.problems, ...b.problems, ...extraPages.flatMap((p) => p.problems)];
    assert.deepEqual(problems, []);
    for (const d of [alice, bob]) {
      assert.ok(d.token.length === 64);
      assert.ok(!d.stderr.includes(d.token), `${d.label}'s log holds its token`);
    }
  });
});
