// Unread chat counts per workspace. The daemon keeps no read markers for chat, so the browser
// remembers, per device and workspace, the id of the last message the user saw (localStorage),
// and counts the messages of others that came after it in the workspace's chat order.
import type { ChatMessage } from '../api/types.ts';

const key = (me: string, ws: string) => `trellis:read:${me}:${ws}`;

export function lastRead(me: string, ws: string): string | null {
  try { return localStorage.getItem(key(me, ws)); } catch { return null; }
}

export function markRead(me: string, ws: string, messageId: string): void {
  try { localStorage.setItem(key(me, ws), messageId); } catch { /* private mode: counts reset on reload */ }
}

export function unreadIn(log: readonly ChatMessage[], me: string, readId: string | null): number {
  const from = readId === null ? 0 : log.findIndex((m) => m.id === readId) + 1;
  let n = 0;
  for (let i = from; i < log.length; i++) if (log[i].author !== me) n++;
  return n;
}
