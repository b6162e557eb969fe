// Serves the web UI (web/dist, built by `npm run build:web`) on the API's own address, so the page
// and the API share one origin and the browser's same-origin rules protect both.
//
// - Only files inside the root: the path is decoded once, every segment checked (no "..", no
//   dotfiles, no backslashes or NUL), and the real path (symbolic links resolved) must stay inside.
// - Client-side routes (a path whose last segment has no extension) get index.html.
// - Security headers on every answer; the CSP allows scripts, styles and connections from this
//   origin only, no inline code, no framing, no plugins.
// - The files need no token (they are the app, not data); the Host and Origin checks still apply,
//   so a DNS-rebinding page cannot even read the app through its own name.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { checkHostAndOrigin, type AccessPolicy } from './access.ts';

/** Where `npm run build:web` writes the UI. */
export const DEFAULT_WEB_ROOT = resolve(import.meta.dirname, '../../web/dist');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

// 'self' covers ws:// to this host and port too (CSP Level 3), which the events and document
// sockets use. Styles the app sets from script go through the CSSOM, which style-src does not limit.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'geolocation=(), payment=(), usb=(), serial=()',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trellis</title></head>
<body><h1>The web UI is not built</h1><p>Run <code>npm run build:web</code> (or start the daemon with <code>npm start</code>, which builds it), then reload.</p></body></html>\n`;

export interface WebFiles {
  /** Answers a GET or HEAD for a path outside /api. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

export function webFiles(root: string, policy: AccessPolicy): WebFiles {
  const rootPath = resolve(root);
  let realRoot: string | undefined;

  return {
    async serve(req, res, path) {
      const denial = checkHostAndOrigin(req, policy);
      if (denial !== undefined) return sendText(res, denial.status, denial.message);
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'the web UI is read with GET', { Allow: 'GET, HEAD' });
      const rel = safeRelative(path);
      if (rel === undefined) return sendText(res, 400, 'bad path');
      try {
        realRoot ??= await realpath(rootPath);
      } catch {
        return send(res, req, 503, Buffer.from(NOT_BUILT), MIME['.html'], 'no-store');
      }
      const found = await fileInside(realRoot, rel);
      if (found !== undefined) {
        // Vite names every built asset after its content hash: such a name never changes content.
        const cache = rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
        return stream(res, req, found.path, found.size, MIME[extname(found.path).toLowerCase()] ?? 'application/octet-stream', cache);
      }
      const last = rel.split('/').pop() ?? '';
      if (rel === '' || extname(last) === '') {
        const index = await fileInside(realRoot, 'index.html');
        if (index !== undefined) return stream(res, req, index.path, index.size, MIME['.html'], 'no-store');
        return send(res, req, 503, Buffer.from(NOT_BUILT), MIME['.html'], 'no-store');
      }
      return sendText(res, 404, 'not found');
    },
  };
}

/** The path below the root, '' for the root itself; undefined for anything that could leave it. */
function safeRelative(path: string): string | undefined {
  let decoded: string;
  try { decoded = decodeURIComponent(path); } catch { return undefined; }
  if (!decoded.startsWith('/') || /[\\\0]/.test(decoded)) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '');
  // Dot segments would climb out; dotfiles are never part of the build.
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  return segments.join('/');
}

async function fileInside(realRoot: string, rel: string): Promise<{ path: string; size: number } | undefined> {
  if (rel === '') return undefined;
  try {
    const real = await realpath(join(realRoot, rel));
    if (!real.startsWith(realRoot + sep)) return undefined;
    const st = await stat(real);
    return st.isFile() ? { path: real, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

function stream(res: ServerResponse, req: IncomingMessage, path: string, size: number, type: string, cache: string): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': size, 'Cache-Control': cache });
  if (req.method === 'HEAD') { res.end(); return; }
  const file = createReadStream(path);
  file.on('error', () => res.destroy());
  file.pipe(res);
}

function send(res: ServerResponse, req: IncomingMessage, status: number, body: Buffer, type: string, cache: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': body.byteLength, 'Cache-Control': cache });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(text + '\n');
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.byteLength, 'Cache-Control': 'no-store' });
  res.end(body);
}
