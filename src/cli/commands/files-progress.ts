// The progress bar of `trellis files add|get`: follows the daemon's file-progress events for one
// job over the events WebSocket and draws one line on stderr. Drawn only on a terminal (a log file
// or a pipe would collect hundreds of lines); without a terminal, or if the socket cannot be
// opened, the command simply runs without a bar.
import type { ApiClient } from '../api-client.ts';
import { safeLine } from '../output.ts';

const WIDTH = 28;
const REDRAW_MS = 100;

export interface ProgressBar {
  /** Waits (briefly) until the event socket is open, so no early event is missed. */
  ready: Promise<void>;
  /** Removes the bar and closes the socket. */
  stop(): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** The bar's text: [######......]  45%  90.0 MiB / 200 MiB  120 MiB/s  name */
export function barLine(verb: string, name: string, done: number, total: number, bytesPerSecond: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * WIDTH);
  const speed = bytesPerSecond > 0 ? `  ${formatBytes(Math.round(bytesPerSecond))}/s` : '';
  return `${verb} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}${speed}  ${safeLine(name).slice(0, 60)}`;
}

export function progressBar(api: ApiClient, job: string, verb: string, enabled: boolean): ProgressBar {
  const err = process.stderr;
  if (!enabled || !err.isTTY) return { ready: Promise.resolve(), stop: () => undefined };
  let socket: { close(): void; terminate(): void } | undefined;
  let stopped = false;
  let drawn = false;
  let lastDraw = 0;
  const started = Date.now();
  const draw = (name: string, done: number, total: number): void => {
    const now = Date.now();
    if (now - lastDraw < REDRAW_MS && done < total) return;
    lastDraw = now;
    const secs = (now - started) / 1000;
    const line = barLine(verb, name, done, total, secs > 0.5 ? done / secs : 0);
    // Cut to the terminal's width so the line never wraps (a wrapped line cannot be redrawn).
    const columns = err.columns !== undefined && err.columns > 20 ? err.columns : 100;
    err.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    drawn = true;
  };
  const ready = (async () => {
    try {
      const { WebSocket } = await import('ws');
      const url = new URL(api.file.url);
      const ws = new WebSocket(`ws://${url.host}/api/events`, { headers: { Authorization: `Bearer ${api.file.token}` } });
      socket = ws;
      if (stopped) { ws.terminate(); return; }
      ws.on('message', (data: Buffer) => {
        let e: { type?: unknown; job?: unknown; name?: unknown; done?: unknown; total?: unknown };
        try { e = JSON.parse(data.toString('utf8')) as typeof e; } catch { return; }
        if (e.type !== 'file-progress' || e.job !== job || typeof e.done !== 'number' || typeof e.total !== 'number') return;
        if (!stopped) draw(typeof e.name === 'string' ? e.name : '', e.done, e.total);
      });
      ws.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        ws.once('open', () => { clearTimeout(t); resolve(); });
        ws.once('error', () => { clearTimeout(t); resolve(); });
      });
    } catch {
      // No bar then: the transfer itself does not depend on it.
    }
  })();
  return {
    ready,
    stop() {
      stopped = true;
      socket?.terminate();
      if (drawn) err.write('\r\x1b[K');
    },
  };
}
