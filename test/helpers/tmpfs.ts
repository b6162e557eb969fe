// Small tmpfs mounts for tests of a full disk (Linux, as root: CI runs so; elsewhere such tests are
// skipped, not passed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mounts a tmpfs of `size` (e.g. "1m") at `dir`; false where this process may not. */
export function mountTmpfs(dir: string, size: string): boolean {
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' }); return true; } catch { return false; }
}

export function unmount(dir: string): void {
  try { execFileSync('umount', [dir], { stdio: 'ignore' }); } catch { /* gone already */ }
}

/** Can this process mount a tmpfs? (A probe, mounted and unmounted at once.) */
export function tmpfsMountsWork(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'trellis-mount-probe-'));
  try {
    if (!mountTmpfs(probe, '64k')) return false;
    unmount(probe);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
