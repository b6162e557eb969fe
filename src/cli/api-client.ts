// The CLI's side of the daemon API: finds the daemon through <home>/api.json and turns every
// failure into a CliError with the documented exit status. Uses node:http rather than fetch,
// which would load undici, and loads it only when a request is really made (about 25 ms), so
// "the daemon is not running" answers fast.
import { isProcessAlive, readApiFile, type ApiFile } from '../daemon/api-file.ts';
import { CliError, EXIT_FORBIDDEN, EXIT_USAGE, daemonNotRunning } from './cli-error.ts';
import { safeLine } from './output.ts';

export interface RequestOptions {
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
  /** Appended to a 404 message, e.g. how to list what exists. */
  notFoundHint?: string;
}

export interface ApiClient {
  readonly home: string;
  readonly file: ApiFile;
  get<T>(path: string, opts?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  put<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  delete<T>(path: string, opts?: RequestOptions): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Errors meaning nobody listens there any more: a stale api.json. */
const GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** A client for the daemon of `home`; CliError (exit 2) if there is none. */
export function connectApi(home: string): ApiClient {
  let file: ApiFile | undefined;
  try {
    file = readApiFile(home);
  } catch (err) {
    throw daemonNotRunning(home, (err as Error).message);
  }
  if (file === undefined || !isProcessAlive(file.pid)) throw daemonNotRunning(home);
  const url = new URL(file.url);
  // The token goes only to this machine, whatever api.json says.
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && !/^127\./.test(url.hostname)) {
    throw daemonNotRunning(home, `${file.url} in api.json is not a loopback address`);
  }
  const f = file;
  const call = <T>(method: string, path: string, body: unknown, opts: RequestOptions): Promise<T> =>
    send<T>(home, f, url, method, path, body, opts);
  return {
    home,
    file: f,
    get: (path, opts = {}) => call('GET', path, undefined, opts),
    post: (path, body, opts = {}) => call('POST', path, body ?? {}, opts),
    put: (path, body, opts = {}) => call('PUT', path, body ?? {}, opts),
    delete: (path, opts = {}) => call('DELETE', path, undefined, opts),
  };
}

/** `encodeURIComponent` for one path segment such as a workspace name. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

async function send<T>(home: string, file: ApiFile, base: URL, method: string, path: string, body: unknown, opts: RequestOptions): Promise<T> {
  const { request } = await import('node:http');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request({
      host: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port,
      path,
      method,
      headers: {
        Authorization: `Bearer ${file.token}`,
        Accept: 'application/json',
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new CliError(EXIT_USAGE, `the daemon did not answer within ${Math.round(timeoutMs / 1000)} s: check its log, or stop and start it again`));
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code !== undefined && GONE.has(err.code)) reject(daemonNotRunning(home, `nothing answers at ${file.url}`));
      else reject(new CliError(EXIT_USAGE, `cannot reach the daemon at ${file.url}: ${err.message}`));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => { clearTimeout(timer); reject(new CliError(EXIT_USAGE, `the daemon's answer broke off: ${err.message}`)); });
      res.on('end', () => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reject(new CliError(EXIT_USAGE, `the daemon at ${file.url} sent an unreadable answer (HTTP ${status}): is it a Trellis daemon?`));
          return;
        }
        if (status >= 200 && status < 300) resolve(parsed as T);
        else reject(httpFailure(home, status, parsed, opts));
      });
    });
    req.end(payload);
  });
}

function httpFailure(home: string, status: number, body: unknown, opts: RequestOptions): CliError {
  const e = (body as { error?: { message?: unknown } } | null)?.error;
  const message = typeof e?.message === 'string' ? safeLine(e.message) : `HTTP ${status}`;
  switch (status) {
    case 401:
      // Another daemon took over the port, or api.json belongs to a previous run.
      return daemonNotRunning(home, 'the daemon at the address in api.json does not accept its token');
    case 403:
      return new CliError(EXIT_FORBIDDEN, message);
    case 404:
      return new CliError(EXIT_USAGE, opts.notFoundHint === undefined ? message : `${message}: ${opts.notFoundHint}`);
    case 500:
      return new CliError(EXIT_USAGE, `${message}; if it persists, restart it with \`trellis start\``);
    default:
      return new CliError(EXIT_USAGE, message);
  }
}
