// Joins queued at a relay (protocol /trellis/relay-join/1.0.0), for when the inviter is offline.
// The joiner signs its request (the direct join request plus who asks whom) so that whoever gets
// it from the relay, not from the joiner, knows the joiner's key wrote it (the name is not covered
// by the invitation proof). The request carries the invitation's ticket (the grant its inviter
// signed, src/workspace/invite-code.ts) and a signature with the invite key that proves the
// joiner holds the secret: the relay checks both before it keeps anything (so only holders of a
// real invitation can take its slots), and any manager can complete the join, not only the
// inviter. The relay keeps it until a manager connects, passes it on, and that manager writes the
// `add` entry; the joiner then syncs the workspace from the relay. The secret never travels.
//
// Frames (src/sync/frames.ts; JSON bodies, each field checked here):
//   joiner → relay   JOIN_REQUEST {op:"queue", request}      relay → joiner   JOIN_ACCEPT {state, reason?}
//   relay → inviter  JOIN_REQUEST {op:"deliver", requests}   inviter → relay  JOIN_ACCEPT {results}
//   either side may answer ERROR (code, message) instead, then closes.
import { fromHex, toHex, utf8 } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import { sign, verify, type KeyPair } from '../crypto/sodium.ts';
import { parseTicket, TICKET_BYTES, signInviteUse, verifyInviteUse, type DecodedInvite, type InviteGrant } from '../workspace/invite-code.ts';
import { parseRequest, type JoinRequest } from '../workspace/join.ts';

export const RELAY_JOIN_PROTOCOL = '/trellis/relay-join/1.0.0';
/** Requests passed on in one delivery (a frame holds at most 64 KiB of JSON). */
export const MAX_DELIVERY = 20;

export interface QueuedJoinRequest extends JoinRequest {
  joiner: string;
  inviter: string;
  /** The invitation's expiry (ms): the relay forgets the request then. */
  expires: number;
  /** The invitation's ticket (hex): the grant its inviter signed. */
  ticket: string;
  /** Signature with the invite key over the workspace and the joiner's keys (hex). */
  use: string;
  /** The joiner's signature over all of the above (hex). */
  signature: string;
}

/** A queued request whose signatures all checked out, with what its ticket grants. */
export interface CheckedRequest {
  request: QueuedJoinRequest;
  grant: InviteGrant;
}

export type QueueState = 'queued' | 'accepted' | 'refused';
export interface QueueAnswer { state: QueueState; reason?: string }

export type DeliveryResult =
  | { joiner: string; invite: string; ok: true }
  | { joiner: string; invite: string; ok: false; code: string; reason: string };

const hexOk = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v);

function signedBytes(r: Omit<QueuedJoinRequest, 'signature'>): Uint8Array {
  return utf8.encode('trellis queued join v2\n' + JSON.stringify([r.workspace, r.invite, r.proof, r.name, r.agreementKey, r.joiner, r.inviter, r.expires, r.ticket, r.use]));
}

export function signQueuedRequest(req: JoinRequest, inv: DecodedInvite, signing: KeyPair): QueuedJoinRequest {
  const use = signInviteUse(inv.secret, inv.workspace, signing.publicKey, fromHex(req.agreementKey));
  const body = { ...req, joiner: toHex(signing.publicKey), inviter: toHex(inv.inviter), expires: inv.expires, ticket: toHex(inv.ticket), use: toHex(use) };
  return { ...body, signature: toHex(sign(signedBytes(body), signing.secretKey)) };
}

/**
 * Validates every field, the joiner's signature, the ticket (signed by its inviter, and saying
 * what the request says: workspace, inviter, invitation id, expiry) and the joiner's proof that it
 * holds the invitation's secret. TrellisError('invalid') otherwise. Whether the inviter may still
 * invite, and whether the invitation was used, is for the caller to check against its replica.
 */
export function parseQueuedRequest(body: unknown): CheckedRequest {
  const o = body as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw new TrellisError('invalid', 'malformed queued join request');
  const base = parseRequest(o);
  if (!hexOk(o.joiner, 32) || !hexOk(o.inviter, 32) || !hexOk(o.signature, 64) || !hexOk(o.ticket, TICKET_BYTES) || !hexOk(o.use, 64)
    || !Number.isSafeInteger(o.expires) || (o.expires as number) < 0) throw new TrellisError('invalid', 'malformed queued join request');
  const r = { ...base, joiner: o.joiner, inviter: o.inviter, expires: o.expires as number, ticket: o.ticket, use: o.use };
  if (!verify(fromHex(o.signature), signedBytes(r), fromHex(r.joiner))) throw new TrellisError('invalid', 'the queued join request is not signed by its joiner');
  const grant = parseTicket(fromHex(r.ticket));
  if (toHex(grant.workspace) !== r.workspace || toHex(grant.inviter) !== r.inviter || toHex(grant.inviteKey) !== r.invite || grant.expires !== r.expires) {
    throw new TrellisError('invalid', 'the queued join request does not match its invitation ticket');
  }
  if (!verifyInviteUse(fromHex(r.use), grant, fromHex(r.joiner), fromHex(r.agreementKey))) {
    throw new TrellisError('invalid', 'the joiner did not prove that it holds the invitation');
  }
  return { request: { ...r, signature: o.signature }, grant };
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
