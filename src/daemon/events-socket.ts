// WebSocket /api/events: every PeerEvent, as one JSON text frame each, to authenticated local
// clients (the web UI, `trellis` watchers). Browsers cannot set headers on a WebSocket, so the token
// may also come as `?token=`; the Host and Origin checks are the same as for HTTP.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PeerEvent } from '../peer-api.ts';
import { checkAccess, type AccessPolicy } from './access.ts';
import type { ApiPeer } from './api-peer.ts';

export const EVENTS_PATH = '/api/events';
/** A client this far behind is too slow to follow; it is closed rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Pings find clients that vanished without closing (sleeping laptop, killed browser). */
const PING_INTERVAL_MS = 30_000;
/**
 * With no client left this long, no browser of ours is in a call any more (a crashed or killed
 * browser says nothing): our presence stops naming one, so others do not try to join us. A client
 * that reconnects sooner (a network blip) keeps the call.
 */
const CALL_GRACE_MS = 10_000;

export interface EventsSocket {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function eventsSocket(peer: ApiPeer, policy: AccessPolicy, log: (line: string) => void): EventsSocket {
  // Clients send nothing the daemon needs; a tiny payload limit keeps them from sending much.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const alive = new WeakSet<WebSocket>();

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) { ws.terminate(); continue; }
      alive.delete(ws);
      ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();
  let lonely: NodeJS.Timeout | undefined;

  wss.on('connection', (ws: WebSocket) => {
    clearTimeout(lonely);
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', () => ws.terminate());
    let unsubscribe: () => void;
    try {
      unsubscribe = peer.on((event: PeerEvent) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          log('events: closing a client that does not keep up');
          ws.close(1013, 'too slow');
          return;
        }
        ws.send(JSON.stringify(event));
      });
    } catch (err) {
      log(`events: cannot subscribe to the peer: ${(err as Error).message.split('\n')[0]}`);
      ws.close(1011, 'internal error');
      return;
    }
    ws.on('close', () => {
      unsubscribe();
      if (wss.clients.size > 0 || !peer.endCalls) return;
      clearTimeout(lonely);
      lonely = setTimeout(() => { if (wss.clients.size === 0) peer.endCalls?.(); }, CALL_GRACE_MS);
      lonely.unref();
    });
  });

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== EVENTS_PATH) return refuse(socket, 404, 'Not Found');
      const denial = checkAccess(req, policy, url.searchParams.get('token'));
      if (denial !== undefined) {
        log(`events: refused a WebSocket (${denial.status})`);
        return refuse(socket, denial.status, denial.status === 401 ? 'Unauthorized' : 'Forbidden');
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      clearInterval(pinger);
      clearTimeout(lonely);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function refuse(socket: Duplex, status: number, reason: string): void {
  // Destroy only after the response has been flushed, or the client sees a reset instead of a status.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
