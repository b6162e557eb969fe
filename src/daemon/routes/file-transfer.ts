// Browser file transfer for the files tool. The other file routes take paths on this machine; a web
// page has bytes instead, so these two stream them through a temporary file under <home>/uploads:
// - POST /api/workspaces/:ws/files/upload?name=NAME&job=JOB, the body is the raw file (at most
//   MAX_UPLOAD_BYTES); answers 201 with what files.add answers;
// - GET /api/workspaces/:ws/files/download?name=NAME&version=V, the file as an attachment.
// The temporary file is removed whatever happens.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { explainWriteError } from '../../core/io-errors.ts';
import { baseName, normalizeName } from '../../tools/files/paths.ts';
import { HttpError } from '../http-errors.ts';
import { rawRoute, type RequestScope } from '../router.ts';

/** Largest upload: 4 GiB. */
export const MAX_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024;

const JOB = /^[A-Za-z0-9_-]{1,64}$/;

function files(peer: RequestScope['peer']) {
  if (!peer.files) throw new HttpError(503, 'unavailable', 'the files tool is not running in this daemon');
  return peer.files;
}

function nameOf(query: URLSearchParams): string {
  const name = query.get('name');
  if (name === null || name === '') throw new HttpError(400, 'invalid', 'give the file name as ?name=');
  return normalizeName(name);
}

function versionOf(query: URLSearchParams): number | string | undefined {
  const v = query.get('version');
  if (v === null || v === '') return undefined;
  if (/^[1-9][0-9]{0,15}$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  if (/^[0-9a-f]{32}$/.test(v)) return v;
  throw new HttpError(400, 'invalid', '?version= takes a version number or a 32-hex version id');
}

/** A fresh private folder under <home>/uploads for one transfer. */
async function tempDir(home: string): Promise<string> {
  const root = join(home, 'uploads');
  await mkdir(root, { recursive: true, mode: 0o700 });
  return mkdtemp(join(root, 't-'));
}

function tooLarge(): HttpError {
  return new HttpError(413, 'too-large', `the upload is larger than ${MAX_UPLOAD_BYTES} bytes`);
}

/** Header-safe ASCII fallback plus the RFC 5987 UTF-8 form. */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export const fileTransferRoutes = [
  rawRoute({
    method: 'POST',
    path: '/api/workspaces/:ws/files/upload',
    handle: async ({ peer, params, query }, { req, res, home }) => {
      let dir: string | undefined;
      try {
        const service = files(peer);
        const ws = peer.resolveWorkspace(params.ws);
        const name = nameOf(query);
        const job = query.get('job') ?? undefined;
        if (job !== undefined && !JOB.test(job)) throw new HttpError(400, 'invalid', '?job= takes letters, digits, "-" or "_", at most 64');
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) throw tooLarge();
        dir = await tempDir(home);
        const tmp = join(dir, `${randomBytes(8).toString('hex')}.upload`);
        let size = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, done) {
            size += chunk.length;
            done(size > MAX_UPLOAD_BYTES ? tooLarge() : null, chunk);
          },
        });
        try {
          await pipeline(req, limit, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
        } catch (err) {
          // A full disk under the home is the user's to fix: say so (not "internal error").
          throw explainWriteError(err, `the daemon's folder for uploads (${join(home, 'uploads')})`, 'upload it again');
        }
        const result = await service.add(ws, tmp, { as: name, ...(job !== undefined ? { job } : {}) });
        const body = JSON.stringify(result);
        res.writeHead(201, {
          'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff',
          'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      } catch (err) {
        // The rest of the body may be unread: close rather than reuse the connection.
        if (!req.readableEnded && !res.headersSent) res.setHeader('Connection', 'close');
        throw err;
      } finally {
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
    },
  }),
  rawRoute({
    method: 'GET',
    path: '/api/workspaces/:ws/files/download',
    handle: async ({ peer, params, query }, { res, home }) => {
      const service = files(peer);
      const ws = peer.resolveWorkspace(params.ws);
      const name = nameOf(query);
      const version = versionOf(query);
      const dir = await tempDir(home);
      try {
        const dest = join(dir, 'file');
        const got = await service.get(ws, name, dest, version !== undefined ? { version } : {});
        const info = await stat(dest);
        if (got.files.length !== 1 || !info.isFile()) throw new HttpError(400, 'invalid', `"${name}" is a folder: download its files one by one`);
        res.writeHead(200, {
          'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff',
          'Content-Type': 'application/octet-stream',
          'Content-Length': info.size,
          'Content-Disposition': attachment(baseName(name)),
        });
        await pipeline(createReadStream(dest), res);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  }),
];
