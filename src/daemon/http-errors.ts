// How failures leave the API: `{"error":{"code","message"}}` with an HTTP status. TrellisError codes
// keep their meaning across the wire, so clients (the CLI) can map them to exit codes.
import { TrellisError, type TrellisErrorCode } from '../core/errors.ts';
import { isDiskFull } from '../core/io-errors.ts';

export type ApiErrorCode = TrellisErrorCode | 'unauthorized' | 'too-large' | 'method-not-allowed' | 'internal';

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** An error raised by the HTTP layer itself (bad JSON, unknown route, body too large, ...). */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  constructor(status: number, code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

const STATUS_OF: Record<TrellisErrorCode, number> = {
  invalid: 400,
  'not-found': 404,
  forbidden: 403,
  unavailable: 503,
  conflict: 409,
};

export interface ErrorResponse {
  status: number;
  body: ApiErrorBody;
  /** Set for unexpected errors: what to log (one line, no stack). */
  logLine?: string;
}

export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof HttpError) return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  if (err instanceof TrellisError) return { status: STATUS_OF[err.code] ?? 500, body: { error: { code: err.code, message: err.message } } };
  const e = err instanceof Error ? err : new Error(String(err));
  const first = (e.message.split('\n')[0] ?? '').slice(0, 300);
  // A full disk is the user's to fix, whichever write met it (the database, a file).
  if (isDiskFull(err)) {
    return {
      status: 503,
      body: { error: { code: 'unavailable', message: 'the disk that holds this peer\'s data is full: free some space, then try again' } },
      logLine: `disk full: ${e.name}: ${first}`,
    };
  }
  // Anything else is a bug or an I/O failure: the client learns nothing internal, the log gets one line.
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error in the daemon: see its log' } },
    logLine: `${e.name}: ${first}`,
  };
}
