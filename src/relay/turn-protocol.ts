// /trellis/turn/1.0.0: a member asks a relay for credentials of its TURN server, for calls whose
// media cannot go directly between members (NATs) or should not (a member who keeps its address
// from other callers). The member opens the stream and sends nothing; the relay answers one
// message and closes: u32 length, UTF-8 JSON {urls: ["turn:host:port?transport=udp"], username,
// credential, ttl (seconds)} or {error: {code, message}}. Only members of a workspace the relay
// serves get credentials; each set is the member's own and expires after `ttl`.
import { Reader, utf8, Writer } from '../core/bytes.ts';

export const TURN_PROTOCOL = '/trellis/turn/1.0.0';
const MAX_MESSAGE_BYTES = 4096;

export interface TurnOffer { urls: string[]; username: string; credential: string; ttl: number }

export function encodeTurnMessage(body: TurnOffer | { error: { code: string; message: string } }): Uint8Array {
  const json = utf8.encode(JSON.stringify(body));
  return new Writer(4 + json.byteLength).u32(json.byteLength).bytes(json).finish();
}

/** The offer in a relay's answer, checked field by field; a reason string otherwise. */
export function decodeTurnMessage(bytes: Uint8Array): TurnOffer | string {
  let json: unknown;
  try {
    const r = new Reader(bytes);
    const n = r.u32();
    if (n > MAX_MESSAGE_BYTES) return 'TURN answer too large';
    json = JSON.parse(utf8.decode(r.bytes_(n)));
    r.end();
  } catch (err) {
    return `malformed TURN answer: ${(err as Error).message}`;
  }
  const o = json as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return 'malformed TURN answer';
  if (o.error) {
    const e = o.error as Record<string, unknown>;
    return `the relay refused: ${typeof e.message === 'string' ? e.message.slice(0, 200) : 'no reason given'}`;
  }
  if (!Array.isArray(o.urls) || o.urls.length === 0 || o.urls.length > 4
    || !o.urls.every((u) => typeof u === 'string' && /^turns?:[^\s]{1,200}$/.test(u))) return 'TURN answer: urls must be 1 to 4 turn: URLs';
  if (typeof o.username !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(o.username)) return 'TURN answer: bad username';
  if (typeof o.credential !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(o.credential)) return 'TURN answer: bad credential';
  if (typeof o.ttl !== 'number' || !Number.isInteger(o.ttl) || o.ttl < 60 || o.ttl > 86_400) return 'TURN answer: ttl must be 60 to 86,400 seconds';
  return { urls: o.urls as string[], username: o.username, credential: o.credential, ttl: o.ttl };
}

/** Reads the whole (small) answer from a stream, at most `MAX_MESSAGE_BYTES` and change. */
export async function readTurnAnswer(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of stream) {
    n += p.byteLength;
    if (n > MAX_MESSAGE_BYTES + 4) throw new Error('TURN answer too large');
    parts.push(p.slice());
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}
