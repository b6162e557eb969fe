// HTTP calls to the daemon that served this page. The browser authenticates with the session
// cookie (src/daemon/session.ts); every request carries the X-Trellis-Request header, which proves
// to the daemon that our own page sent it (other pages cannot add it without a CORS preflight).

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the daemon no longer knows our session (it restarted: its token changed). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => { unauthorizedListeners.delete(listener); };
}

async function call<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { 'X-Trellis-Request': '1', Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'offline', 'cannot reach your Trellis daemon: is it still running?');
  }
  const text = await res.text();
  let json: unknown = undefined;
  if (text !== '') {
    try { json = JSON.parse(text); } catch { /* not JSON: reported below */ }
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && !('authorization' in extraHeaders)) for (const l of unauthorizedListeners) l();
    throw new ApiError(res.status, err?.code ?? 'error', err?.message ?? `the daemon answered ${res.status}`);
  }
  return json as T;
}

export const http = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
  delete: <T>(path: string) => call<T>('DELETE', path),
};

/** Trades the token from the start URL for a session cookie (the one time the token is sent). */
export async function openSession(token: string): Promise<void> {
  await call('POST', '/api/session', {}, { authorization: `Bearer ${token}` });
}

/** Path segment for an id or name. */
export const seg = (s: string): string => encodeURIComponent(s);

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
