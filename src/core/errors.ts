// Errors that cross layers and reach users. `code` decides the CLI exit status and the HTTP status.
export type TrellisErrorCode =
  | 'invalid'       // bad input: malformed code, text too long, bad argument  -> exit 1, HTTP 400
  | 'not-found'     // unknown workspace, member, invitation                    -> exit 1, HTTP 404
  | 'forbidden'     // role does not permit it; invitation used or expired     -> exit 3, HTTP 403
  | 'unavailable'   // no peer reachable (e.g. inviter offline)                 -> exit 1, HTTP 503
  | 'conflict';     // already exists / already a member                        -> exit 1, HTTP 409

export class TrellisError extends Error {
  readonly code: TrellisErrorCode;
  constructor(code: TrellisErrorCode, message: string) {
    super(message);
    this.name = 'TrellisError';
    this.code = code;
  }
}
