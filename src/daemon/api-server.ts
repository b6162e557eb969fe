// The daemon's local API: HTTP + WebSocket on a loopback address, one random token per start,
// announced to local clients through api.json (mode 0600) in the home directory.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '../core/errors.ts';
import { accessPolicy, checkAccess, newToken, type AccessPolicy } from './access.ts';
import { DEFAULT_API_PORT, loopbackBindHost, urlHost } from './api-address.ts';
import { removeApiFile, writeApiFile } from './api-file.ts';
import type { ApiPeer } from './api-peer.ts';
import { docSocket } from './doc-socket.ts';
import { eventsSocket } from './events-socket.ts';
import { errorResponse } from './http-errors.ts';
import { readJsonBody, sendJson } from './http-io.ts';
import { Router, type Route } from './router.ts';
import { apiRoutes } from './routes/index.ts';
import { Sessions, SESSION_PATH } from './session.ts';
import { DEFAULT_WEB_ROOT, webFiles } from './static.ts';

export interface ApiServerOptions {
  peer: ApiPeer;
  /** Home directory: api.json is written here. */
  home: string;
  /** Loopback host; default 127.0.0.1. Anything else is refused. */
  host?: string;
  /** Default 7420; 0 = any free port. */
  port?: number;
  /** One line per call; never given tokens, keys or message texts. */
  log?: (line: string) => void;
  /** Called (once, after the response went out) when a client asks POST /api/shutdown. Default: close(). */
  onShutdown?: () => void;
  /** Routes beside the standard ones (the daemon's onboarding routes). */
  extraRoutes?: readonly Route[];
  /** The built web UI served on every path outside /api; default web/dist. */
  webRoot?: string;
}

export interface ApiServer {
  /** e.g. http://127.0.0.1:7420 */
  url: string;
  port: number;
  /** The bearer token, for in-process callers (tests); it is also in api.json. */
  token: string;
  /** Stops serving, closes every connection and WebSocket, removes api.json. Idempotent. */
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { peer, home } = opts;
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const bindHost = loopbackBindHost(opts.host ?? '127.0.0.1');
  const token = newToken();
  const router = new Router([...apiRoutes, ...(opts.extraRoutes ?? [])]);
  const server = createServer();

  // Listen first: only then is the port known, and the Host/Origin policy depends on it.
  await listen(server, bindHost, opts.port ?? DEFAULT_API_PORT);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(bindHost)}:${port}`;
  const sessions = new Sessions(port);
  const policy: AccessPolicy = { ...accessPolicy(urlHost(bindHost), port, token), sessions };
  const events = eventsSocket(peer, policy, log);
  const docs = docSocket(peer, policy, log);
  const web = webFiles(opts.webRoot ?? DEFAULT_WEB_ROOT, policy);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      events.close();
      docs.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      removeApiFile(home, token);
    })();
    return closing;
  };
  const requestShutdown = (): void => {
    setImmediate(() => {
      if (opts.onShutdown) opts.onShutdown();
      else void close();
    });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      // Only reachable if writing the response itself failed; the socket is beyond saving.
      log(`api: failed to answer ${req.method} ${pathOf(req)}: ${(err as Error).message}`);
      res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!docs.handleUpgrade(req, socket, head, pathOf(req))) events.handleUpgrade(req, socket, head);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = pathOf(req);
    try {
      // Everything outside /api is the web UI, served without the token (static.ts).
      if (path !== '/api' && !path.startsWith('/api/')) {
        await web.serve(req, res, path);
        return;
      }
      const denial = checkAccess(req, policy);
      if (denial !== undefined) {
        log(`api: ${method} ${path} refused (${denial.status})`);
        sendJson(res, denial.status, { error: { code: denial.status === 401 ? 'unauthorized' : 'forbidden', message: denial.message } },
          denial.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
        return;
      }
      if (path === SESSION_PATH) {
        sessions.answer(req, res);
        return;
      }
      const { route, params } = router.match(method, path);
      if (route.raw) {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        await route.raw({ peer, params, query, requestShutdown }, { req, res, home });
        return;
      }
      const rawBody = route.readsBody ? await readJsonBody(req) : undefined;
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const result = await route.run({ peer, params, query, requestShutdown }, rawBody);
      sendJson(res, route.status, result);
    } catch (err) {
      // A streaming route may fail after its response began: nothing to answer then, only to cut.
      if (res.headersSent) {
        log(`api: ${method} ${path} failed while streaming: ${(err as Error).message}`);
        res.destroy();
        return;
      }
      const out = errorResponse(err);
      if (out.logLine !== undefined) log(`api: ${method} ${path} failed: ${out.logLine}`);
      // After a 413 the rest of the body is unread: close rather than reuse the connection.
      sendJson(res, out.status, out.body, out.status === 413 ? { Connection: 'close' } : {});
    }
  }

  try {
    writeApiFile(home, { url, token, pid: process.pid });
  } catch (err) {
    await close();
    throw err;
  }
  log(`api: listening on ${url}`);
  return { url, port, token, close };
}

/** The path without the query string: the query may carry the token, which must never be logged. */
function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return q >= 0 ? raw.slice(0, q) : raw;
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new TrellisError('conflict', `the API address ${urlHost(host)}:${port} is already in use: pass --api ${urlHost(host)}:0 (any free port) or another port`));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new TrellisError('invalid', `cannot serve the API on ${urlHost(host)}: this machine has no such address`));
      } else {
        reject(err);
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
