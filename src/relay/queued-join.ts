// Joins queued at a relay (protocol /trellis/relay-join/1.0.0), for when the inviter is offline.
// The joiner signs its request (the direct join request plus who asks whom) so that the inviter,
// which gets it from the relay and not from the joiner, knows the joiner's key wrote it (the name
// is not covered by the invitation proof). The relay keeps it until the inviter connects, passes
// it on, and the inviter writes the `add` entry as for a direct join; the joiner then syncs the
// workspace from the relay. The invitation secret never travels.
//
// Frames (src/sync/frames.ts; JSON bodies, each field checked here):
//   joiner → relay   JOIN_REQUEST {op:"queue", request}      relay → joiner   JOIN_ACCEPT {state, reason?}
//   relay → inviter  JOIN_REQUEST {op:"deliver", requests}   inviter → relay  JOIN_ACCEPT {results}
//   either side may answer ERROR (code, message) instead, then closes.
import { fromHex, toHex, utf8 } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import { sign, verify, type KeyPair } from '../crypto/sodium.ts';
import type { Invite } from '../workspace/invite-code.ts';
import { parseRequest, type JoinRequest } from '../workspace/join.ts';

export const RELAY_JOIN_PROTOCOL = '/trellis/relay-join/1.0.0';
/** Requests passed on in one delivery (a frame holds at most 64 KiB of JSON). */
export const MAX_DELIVERY = 20;

export interface QueuedJoinRequest extends JoinRequest {
  joiner: string;
  inviter: string;
  /** The invitation's expiry (ms): the relay forgets the request then. */
  expires: number;
  signature: string;
}

export type QueueState = 'queued' | 'accepted' | 'refused';
export interface QueueAnswer { state: QueueState; reason?: string }

export type DeliveryResult =
  | { joiner: string; invite: string; ok: true }
  | { joiner: string; invite: string; ok: false; code: string; reason: string };

const hexOk = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v);

function signedBytes(r: Omit<QueuedJoinRequest, 'signature'>): Uint8Array {
  return utf8.encode('trellis queued join v1\n' + JSON.stringify([r.workspace, r.invite, r.proof, r.name, r.agreementKey, r.joiner, r.inviter, r.expires]));
}

export function signQueuedRequest(req: JoinRequest, inv: Invite, signing: KeyPair): QueuedJoinRequest {
  const body = { ...req, joiner: toHex(signing.publicKey), inviter: toHex(inv.inviter), expires: inv.expires };
  return { ...body, signature: toHex(sign(signedBytes(body), signing.secretKey)) };
}

/** Validates every field and the joiner's signature; TrellisError('invalid') otherwise. */
export function parseQueuedRequest(body: unknown): QueuedJoinRequest {
  const o = body as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw new TrellisError('invalid', 'malformed queued join request');
  const base = parseRequest(o);
  if (!hexOk(o.joiner, 32) || !hexOk(o.inviter, 32) || !hexOk(o.signature, 64)
    || !Number.isSafeInteger(o.expires) || (o.expires as number) < 0) throw new TrellisError('invalid', 'malformed queued join request');
  const r = { ...base, joiner: o.joiner, inviter: o.inviter, expires: o.expires as number };
  if (!verify(fromHex(o.signature), signedBytes(r), fromHex(r.joiner))) throw new TrellisError('invalid', 'the queued join request is not signed by its joiner');
  return { ...r, signature: o.signature };
}

export function parseQueueAnswer(body: unknown): QueueAnswer {
  const o = body as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || !['queued', 'accepted', 'refused'].includes(o.state as string)
    || (o.reason !== undefined && (typeof o.reason !== 'string' || o.reason.length > 1024))) throw new TrellisError('unavailable', 'the relay sent a malformed answer');
  return { state: o.state as QueueState, ...(typeof o.reason === 'string' ? { reason: o.reason } : {}) };
}

export function parseDeliveryResults(body: unknown, max: number): DeliveryResult[] {
  const o = body as { results?: unknown } | null;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.results) || o.results.length > max) throw new TrellisError('invalid', 'malformed delivery results');
  return o.results.map((x: unknown) => {
    const r = x as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || !hexOk(r.joiner, 32) || !hexOk(r.invite, 32) || typeof r.ok !== 'boolean') throw new TrellisError('invalid', 'malformed delivery result');
    if (r.ok) return { joiner: r.joiner, invite: r.invite, ok: true as const };
    if (typeof r.code !== 'string' || r.code.length > 64 || typeof r.reason !== 'string' || r.reason.length > 1024) throw new TrellisError('invalid', 'malformed delivery result');
    return { joiner: r.joiner, invite: r.invite, ok: false as const, code: r.code, reason: r.reason };
  });
}
