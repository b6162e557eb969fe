// Debian's Chromium driven by playwright-core: no browser download, ever. Every page's console
// errors, failed requests and uncaught exceptions are collected so tests can assert there are none.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../helpers/daemons.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'artifacts');

/** `extraArgs`: more Chromium switches (calls add fake media devices and loopback WebRTC). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  // playwright gives every launch a fresh temporary user-data-dir.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', ...extraArgs],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests, with the page's label. */
  problems: string[];
}

export async function openPage(browser: Browser, label: string, viewport = { width: 1440, height: 900 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${label} console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`${label} page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Leaving a page or closing a socket aborts requests on purpose.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${label} request failed: ${r.url().replace(/#.*/, '')} ${r.failure()?.errorText}`);
  });
  return { page, context, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

// The page's own globals, for code that runs in the browser (this file is type-checked without DOM types).
type PageGlobals = { navigator: { clipboard: { readText(): Promise<string>; writeText(t: string): Promise<void> } } };

export function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.clipboard.readText());
}

export function writeClipboard(page: Page, text: string): Promise<void> {
  return page.evaluate((t) => (globalThis as unknown as PageGlobals).navigator.clipboard.writeText(t), text);
}

/** Polls `probe` until it is true (errors count as false); throws after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${what}`);
}
