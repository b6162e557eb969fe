// Invitation codes: one copy-pasteable string carrying the workspace, the inviter's key and
// addresses, a one-time secret, the role and the expiry, signed by the inviter.
//   code  = "trellis1-" base64url( u8 version (2) | 16 workspace | 32 inviter | 32 secret | u8 role
//           | u64 expires | details | 64 signature )
//   details = u8 nAddrs (u16 len, utf8)* | u8 nameLen, utf8 name
//   grant = u8 version | 16 workspace | 32 inviter | 32 invite key | u8 role | u64 expires | 32 BLAKE2b(details)
//   signature = Ed25519 by the inviter over "trellis invite v2\n" ‖ grant
// The secret seeds an Ed25519 key pair (the invite key); its public half is the invitation's id.
// The inviter signs the grant, which names the invite key instead of the secret, so that the grant
// (the "ticket", sent with a join queued at a relay) can be checked by anyone: a relay, or any
// manager completing the join while the inviter is offline. Holding the secret is then proved by
// a signature with the invite key, bound to the joiner's keys (`signInviteUse`).
import { concatBytes, DecodeError, fromBase64Url, Reader, toBase64Url, utf8, Writer } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import type { Role } from '../core/membership.ts';
import { hash, sign, signingKeyPairFromSeed, verify, type KeyPair } from '../crypto/sodium.ts';

const PREFIX = 'trellis1-';
const VERSION = 2;
/** An invitation makes a member with a role, or (`device`) a second device of the inviter. */
export type InviteRole = Role | 'device';
const ROLE_CODES: InviteRole[] = ['manager', 'participant', 'guest', 'device'];
const GRANT_BYTES = 1 + 16 + 32 + 32 + 1 + 8 + 32;
/** A ticket: the grant and the inviter's signature over it. */
export const TICKET_BYTES = GRANT_BYTES + 64;
const GRANT_DOMAIN = utf8.encode('trellis invite v2\n');
const USE_DOMAIN = utf8.encode('trellis invite use v2\n');

export interface Invite {
  workspace: Uint8Array;
  inviter: Uint8Array;
  secret: Uint8Array;
  role: InviteRole;
  expires: number;
  addrs: string[];
  workspaceName: string;
}

/** What a ticket says, once the inviter's signature over it checked out. */
export interface InviteGrant {
  workspace: Uint8Array;
  inviter: Uint8Array;
  /** The invite key: the invitation's id. */
  inviteKey: Uint8Array;
  role: InviteRole;
  expires: number;
}

/** The invite key pair a secret seeds (domain-separated, so the secret is used for nothing else as is). */
export function inviteKeyPair(secret: Uint8Array): KeyPair {
  return signingKeyPairFromSeed(hash(utf8.encode('trellis invite key v2'), 32, secret));
}

/** The invitation's id: the public invite key. Shown to nobody as a secret; `add` entries cite it. */
export function inviteIdOf(secret: Uint8Array): Uint8Array {
  return inviteKeyPair(secret).publicKey;
}

function details(inv: Invite): Uint8Array {
  const w = new Writer(128);
  const addrs = inv.addrs.slice(0, 16);
  w.u8(addrs.length);
  for (const a of addrs) { const b = utf8.encode(a); w.u16(b.byteLength).bytes(b); }
  // Cut whole characters only: the decoder must re-read exactly what was signed.
  let name = inv.workspaceName;
  while (utf8.encode(name).byteLength > 255) name = [...name].slice(0, -1).join('');
  const n = utf8.encode(name);
  w.u8(n.byteLength).bytes(n);
  return w.finish();
}

function grantBytes(g: InviteGrant, detailsHash: Uint8Array): Uint8Array {
  return new Writer(GRANT_BYTES).u8(VERSION).bytes(g.workspace).bytes(g.inviter).bytes(g.inviteKey)
    .u8(ROLE_CODES.indexOf(g.role)).u64(g.expires).bytes(detailsHash).finish();
}

export function encodeInvite(inv: Invite, inviterSecretKey: Uint8Array): string {
  const d = details(inv);
  const grant = grantBytes({ ...inv, inviteKey: inviteIdOf(inv.secret) }, hash(d));
  const w = new Writer(256);
  w.u8(VERSION).bytes(inv.workspace).bytes(inv.inviter).bytes(inv.secret).u8(ROLE_CODES.indexOf(inv.role)).u64(inv.expires).bytes(d);
  w.bytes(sign(concatBytes([GRANT_DOMAIN, grant]), inviterSecretKey));
  return PREFIX + toBase64Url(w.finish());
}

/** A decoded invitation, with the ticket a join queued at a relay carries. */
export interface DecodedInvite extends Invite {
  ticket: Uint8Array;
}

/** Parses and checks the signature; throws TrellisError('invalid') with a clear message. */
export function decodeInvite(code: string): DecodedInvite {
  const trimmed = code.trim();
  if (!trimmed.startsWith(PREFIX)) throw new TrellisError('invalid', 'this is not a Trellis invitation code (it should start with "trellis1-")');
  let bytes: Uint8Array;
  try { bytes = fromBase64Url(trimmed.slice(PREFIX.length)); } catch { throw new TrellisError('invalid', 'the invitation code is damaged (bad characters); copy it again'); }
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version === 1) throw new TrellisError('invalid', 'this invitation code was made by an older Trellis; ask for a new one');
    if (version !== VERSION) throw new DecodeError('unknown invitation version');
    const workspace = r.bytes_(16);
    const inviter = r.bytes_(32);
    const secret = r.bytes_(32);
    const role = ROLE_CODES[r.u8()];
    if (!role) throw new DecodeError('unknown role');
    const expires = r.u64();
    const detailsStart = r.offset;
    const n = r.u8();
    const addrs: string[] = [];
    for (let i = 0; i < n; i++) addrs.push(utf8.decode(r.bytes_(r.u16())));
    const workspaceName = utf8.decode(r.bytes_(r.u8()));
    const d = bytes.subarray(detailsStart, r.offset);
    const signature = r.bytes_(64);
    r.end();
    const grant = grantBytes({ workspace, inviter, inviteKey: inviteIdOf(secret), role, expires }, hash(d));
    if (!verify(signature, concatBytes([GRANT_DOMAIN, grant]), inviter)) throw new DecodeError('bad signature');
    return { workspace, inviter, secret, role, expires, addrs, workspaceName, ticket: concatBytes([grant, signature]) };
  } catch (err) {
    if (err instanceof TrellisError) throw err;
    throw new TrellisError('invalid', `the invitation code is damaged (${(err as Error).message}); copy it again`);
  }
}

/** Reads a ticket and checks the inviter's signature; TrellisError('invalid') otherwise. */
export function parseTicket(ticket: Uint8Array): InviteGrant {
  if (ticket.byteLength !== TICKET_BYTES) throw new TrellisError('invalid', 'malformed invitation ticket');
  let grant: InviteGrant;
  try {
    const r = new Reader(ticket);
    if (r.u8() !== VERSION) throw new DecodeError('unknown version');
    const workspace = r.bytes_(16);
    const inviter = r.bytes_(32);
    const inviteKey = r.bytes_(32);
    const role = ROLE_CODES[r.u8()];
    const expires = r.u64();
    if (!role) throw new DecodeError('unknown role');
    grant = { workspace, inviter, inviteKey, role, expires };
  } catch (err) {
    throw new TrellisError('invalid', `malformed invitation ticket (${(err as Error).message})`);
  }
  if (!verify(ticket.subarray(GRANT_BYTES), concatBytes([GRANT_DOMAIN, ticket.subarray(0, GRANT_BYTES)]), grant.inviter)) {
    throw new TrellisError('invalid', 'the invitation ticket is not signed by its inviter');
  }
  return grant;
}

function useBytes(workspace: Uint8Array, joiner: Uint8Array, agreementKey: Uint8Array): Uint8Array {
  return concatBytes([USE_DOMAIN, workspace, joiner, agreementKey]);
}

/** The joiner's proof that it holds the invitation's secret, bound to its keys: anyone can check it. */
export function signInviteUse(secret: Uint8Array, workspace: Uint8Array, joiner: Uint8Array, agreementKey: Uint8Array): Uint8Array {
  return sign(useBytes(workspace, joiner, agreementKey), inviteKeyPair(secret).secretKey);
}

export function verifyInviteUse(signature: Uint8Array, grant: InviteGrant, joiner: Uint8Array, agreementKey: Uint8Array): boolean {
  return verify(signature, useBytes(grant.workspace, joiner, agreementKey), grant.inviteKey);
}
