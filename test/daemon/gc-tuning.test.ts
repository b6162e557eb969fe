// The daemon's GC tuning (src/daemon/gc-tuning.ts): short-lived network-sized Buffers are freed by
// the watchdog's young-generation collections, so they do not pile up between the full ones. Each
// case runs in a child process of its own (the settings are process-wide); the untuned run shows
// what the test would catch. (What the tuning does to full collections in a real peer, and to
// throughput, is measured by bench/files: this small process does not have a peer's heap.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/buffer-churn.ts', import.meta.url));

interface Churn { major: number; minor: number; peakMiB: number }

function churn(mode: 'tuned' | 'default'): Churn {
  return JSON.parse(execFileSync(process.execPath, [FIXTURE, mode], { encoding: 'utf8', timeout: 60_000 })) as Churn;
}

test('gc tuning: 512 MiB of short-lived buffers are freed by minor GCs and do not pile up', () => {
  const untuned = churn('default');
  const tuned = churn('tuned');
  const both = JSON.stringify({ untuned, tuned });
  assert.ok(tuned.minor >= 10, `tuned: the watchdog's minor GCs free the buffers (${both})`);
  assert.ok(tuned.peakMiB < 40, `tuned: ArrayBuffer memory stays within a few steps of 16 MiB (${both})`);
  assert.ok(untuned.peakMiB >= tuned.peakMiB + 16, `untuned, buffers pile up until a full GC (${both})`);
});
