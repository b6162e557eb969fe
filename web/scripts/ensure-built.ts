// Builds the web UI (web/dist) when it is missing or older than anything it is built from, so
// `npm start` and `npm test` always serve the current UI without rebuilding every time.
// Usage: node web/scripts/ensure-built.ts [--force]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const WEB = join(ROOT, 'web');
const BUILT = join(WEB, 'dist', 'index.html');
const SOURCES = [join(WEB, 'src'), join(WEB, 'public'), join(WEB, 'index.html'), join(WEB, 'vite.config.ts'), join(ROOT, 'package-lock.json')];

/** Newest modification time of a file or of any file below a directory. */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

export function webIsStale(): boolean {
  if (!existsSync(BUILT)) return true;
  const built = statSync(BUILT).mtimeMs;
  return SOURCES.some((s) => newest(s) > built);
}

export function buildWeb(): void {
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(WEB, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building the web UI failed (vite exited with ${r.status ?? r.signal})`);
}

export function ensureWebBuilt(force = false): void {
  if (!force && !webIsStale()) return;
  process.stderr.write('building the web UI into web/dist…\n');
  buildWeb();
}

if (import.meta.main) {
  try {
    ensureWebBuilt(process.argv.includes('--force'));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
