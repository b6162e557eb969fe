// Reading JSON request bodies and writing JSON responses, with the limits the API promises.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-errors.ts';

/** Largest request body: far above any valid request (a chat message is at most 16 KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export function sendJson(res: ServerResponse, status: number, value: unknown, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(value ?? null);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...extraHeaders,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The parsed JSON body; an empty body reads as `{}` so optional-only bodies may be left out.
 * 413 before reading when Content-Length is too large, or as soon as the stream exceeds the limit.
 */
export async function readJsonBody(req: IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid', `the request body is not valid JSON (${(err as Error).message})`);
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'too-large', `the request body is larger than ${limit} bytes`);
}
