// Invitation codes: one copy-pasteable string carrying the workspace, the inviter's key and
// addresses, a one-time secret, the role and the expiry, signed by the inviter.
//   code = "trellis1-" base64url( u8 version | 16 workspace | 32 inviter | 32 secret | u8 role
//          | u64 expires | u8 nAddrs (u16 len, utf8)* | u8 nameLen, utf8 name | 64 signature )
import { DecodeError, fromBase64Url, Reader, toBase64Url, utf8, Writer } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import type { Role } from '../core/membership.ts';
import { sign, verify } from '../crypto/sodium.ts';

const PREFIX = 'trellis1-';
const VERSION = 1;
/** An invitation makes a member with a role, or (`device`) a second device of the inviter. */
export type InviteRole = Role | 'device';
const ROLE_CODES: InviteRole[] = ['manager', 'participant', 'guest', 'device'];

export interface Invite {
  workspace: Uint8Array;
  inviter: Uint8Array;
  secret: Uint8Array;
  role: InviteRole;
  expires: number;
  addrs: string[];
  workspaceName: string;
}

export function encodeInvite(inv: Invite, inviterSecretKey: Uint8Array): string {
  const w = new Writer(256);
  w.u8(VERSION).bytes(inv.workspace).bytes(inv.inviter).bytes(inv.secret).u8(ROLE_CODES.indexOf(inv.role)).u64(inv.expires);
  const addrs = inv.addrs.slice(0, 16);
  w.u8(addrs.length);
  for (const a of addrs) { const b = utf8.encode(a); w.u16(b.byteLength).bytes(b); }
  const name = utf8.encode(inv.workspaceName).subarray(0, 255);
  w.u8(name.byteLength).bytes(name);
  const body = w.finish();
  const out = new Writer(body.byteLength + 64).bytes(body).bytes(sign(body, inviterSecretKey)).finish();
  return PREFIX + toBase64Url(out);
}

/** Parses and checks the signature; throws TrellisError('invalid') with a clear message. */
export function decodeInvite(code: string): Invite {
  const trimmed = code.trim();
  if (!trimmed.startsWith(PREFIX)) throw new TrellisError('invalid', 'this is not a Trellis invitation code (it should start with "trellis1-")');
  let bytes: Uint8Array;
  try { bytes = fromBase64Url(trimmed.slice(PREFIX.length)); } catch { throw new TrellisError('invalid', 'the invitation code is damaged (bad characters); copy it again'); }
  try {
    const r = new Reader(bytes);
    if (r.u8() !== VERSION) throw new DecodeError('unknown invitation version');
    const workspace = r.bytes_(16);
    const inviter = r.bytes_(32);
    const secret = r.bytes_(32);
    const role = ROLE_CODES[r.u8()];
    if (!role) throw new DecodeError('unknown role');
    const expires = r.u64();
    const n = r.u8();
    const addrs: string[] = [];
    for (let i = 0; i < n; i++) addrs.push(utf8.decode(r.bytes_(r.u16())));
    const workspaceName = utf8.decode(r.bytes_(r.u8()));
    const signedLength = r.offset;
    const signature = r.bytes_(64);
    r.end();
    if (!verify(signature, bytes.subarray(0, signedLength), inviter)) throw new DecodeError('bad signature');
    return { workspace, inviter, secret, role, expires, addrs, workspaceName };
  } catch (err) {
    if (err instanceof TrellisError) throw err;
    throw new TrellisError('invalid', `the invitation code is damaged (${(err as Error).message}); copy it again`);
  }
}
