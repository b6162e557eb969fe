// The join exchange (protocol /trellis/join/1.0.0): the joiner proves it holds the invitation's
// secret, bound to its own key; the inviter adds it with a signed `add` control entry and returns
// the workspace key sealed to the joiner's X25519 key. The secret itself never travels.
import { concatBytes, fromHex, toHex, utf8 } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import { hash, secretEqual, type KeyPair } from '../crypto/sodium.ts';
import { inviteIdOf, type InviteGrant } from './invite-code.ts';
import { addPayload, devicePayload } from './control-builders.ts';
import type { Store } from '../store/store.ts';
import { FrameType } from '../sync/frames.ts';
import type { FrameStream } from '../sync/frame-stream.ts';
import { validateName } from '../store/identity-file.ts';
import type { Invite } from './invite-code.ts';
import type { Workspace } from './workspace.ts';
import { isRole, roleOf, type Role } from '../core/membership.ts';

export interface JoinRequest {
  workspace: string;
  invite: string;
  proof: string;
  name: string;
  agreementKey: string;
}

/** The answer carries nothing secret: the `add` entry itself holds our keys, sealed to us. */
export interface JoinAccept {
  added: string;
}

export { inviteIdOf };

export function proofOf(secret: Uint8Array, joinerKey: Uint8Array, agreementKey: Uint8Array, workspace: Uint8Array): Uint8Array {
  return hash(concatBytes([utf8.encode('trellis join v1'), joinerKey, agreementKey, workspace]), 32, secret);
}

/** The request a joiner sends (directly, or queued at a relay: src/relay/queued-join.ts). */
export function joinRequestFor(inv: Invite, me: { signing: KeyPair; agreement: KeyPair; name: string }): JoinRequest {
  return {
    workspace: toHex(inv.workspace),
    invite: toHex(inviteIdOf(inv.secret)),
    proof: toHex(proofOf(inv.secret, me.signing.publicKey, me.agreement.publicKey, inv.workspace)),
    name: me.name,
    agreementKey: toHex(me.agreement.publicKey),
  };
}

/** Joiner side. Resolves once the inviter has added us, or throws TrellisError with its reason. */
export async function requestJoin(fs: FrameStream, inv: Invite, me: { signing: KeyPair; agreement: KeyPair; name: string }): Promise<void> {
  const req = joinRequestFor(inv, me);
  await fs.send({ type: FrameType.joinRequest, body: req });
  const frames = fs.frames();
  const first = await frames.next();
  if (first.done) throw new TrellisError('unavailable', 'the inviter closed the connection without answering');
  const f = first.value;
  if (f.type === FrameType.error) throw new TrellisError(f.code === 'forbidden' ? 'forbidden' : 'invalid', f.message);
  if (f.type !== FrameType.joinAccept) throw new TrellisError('unavailable', 'the inviter answered with an unexpected message');
  const body = f.body as Partial<JoinAccept>;
  if (body?.added !== toHex(me.signing.publicKey)) throw new TrellisError('unavailable', 'the inviter sent a malformed answer');
}

export function parseRequest(body: unknown): JoinRequest {
  const o = body as Record<string, unknown>;
  const hexOk = (v: unknown, n: number) => typeof v === 'string' && v.length === n * 2 && /^[0-9a-f]+$/.test(v);
  if (typeof o !== 'object' || o === null || !hexOk(o.workspace, 16) || !hexOk(o.invite, 32) || !hexOk(o.proof, 32)
    || !hexOk(o.agreementKey, 32) || typeof o.name !== 'string') throw new TrellisError('invalid', 'malformed join request');
  return { workspace: o.workspace as string, invite: o.invite as string, proof: o.proof as string, name: validateName(o.name), agreementKey: o.agreementKey as string };
}

/**
 * Inviter side, whatever way the request came (directly, or queued at a relay): checks the
 * invitation and proof, marks the invitation used and writes the `add` (or `device`) entry, which
 * carries the keys sealed to the joiner. Throws TrellisError with the reason it refuses.
 * `findWorkspace` returns the workspace if we hold it. With `again`, a joiner this invitation
 * added already is accepted (a relay may pass on a request it had passed on before).
 */
export function admitJoiner(req: JoinRequest, remoteKey: Uint8Array, store: Store, findWorkspace: (idHex: string) => Workspace | undefined, again = false): void {
  const ws = findWorkspace(req.workspace);
  if (!ws) throw new TrellisError('not-found', 'this peer does not hold that workspace');
  const invite = store.getInvite(fromHex(req.invite));
  if (!invite || toHex(invite.workspace) !== req.workspace) throw new TrellisError('forbidden', 'this invitation is not known to the inviter (revoked or never issued)');
  const agreementKey = fromHex(req.agreementKey);
  if (!secretEqual(proofOf(invite.secret, remoteKey, agreementKey, ws.id), fromHex(req.proof))) throw new TrellisError('forbidden', 'the invitation proof does not match');
  if (again && ((invite.usedBy && toHex(invite.usedBy) === toHex(remoteKey)) || ws.isMember(toHex(remoteKey)))) return;
  if (invite.usedBy) throw new TrellisError('forbidden', 'this invitation has already been used');
  // Another manager may have completed it (a join queued at a relay while we were offline), or revoked it.
  if (ws.state.invites.has(req.invite)) throw new TrellisError('forbidden', 'this invitation has already been used');
  if (ws.state.revokedInvites.has(req.invite)) throw new TrellisError('forbidden', 'this invitation was revoked by a manager of the workspace');
  if (invite.expires < Date.now()) throw new TrellisError('forbidden', `this invitation expired on ${new Date(invite.expires).toISOString()}`);
  const device = invite.role === 'device';
  if (!device && !isRole(invite.role)) throw new TrellisError('invalid', 'the invitation has an unknown role');
  if (ws.isMember(toHex(remoteKey))) throw new TrellisError('forbidden', 'you are already a member of this workspace');
  const payload = device
    ? devicePayload(ws, { key: toHex(remoteKey), agreementKey: req.agreementKey, name: req.name })
    : addPayload(ws, { key: toHex(remoteKey), agreementKey: req.agreementKey, name: req.name, role: invite.role as Role, invite: req.invite });
  if (!store.useInvite(invite.id, remoteKey)) throw new TrellisError('forbidden', 'this invitation has already been used');
  try {
    ws.appendControl(payload);
  } catch (err) {
    throw new TrellisError('forbidden', `the inviter may not add members any more (${(err as Error).message})`);
  }
}

/**
 * Inviter side of the direct exchange: admits the joiner (admitJoiner) and answers JOIN_ACCEPT,
 * or ERROR with the reason.
 */
export async function answerJoin(fs: FrameStream, remoteKey: Uint8Array, store: Store, findWorkspace: (idHex: string) => Workspace | undefined, log: (l: string) => void): Promise<void> {
  const frames = fs.frames();
  try {
    const first = await frames.next();
    if (first.done) return;
    if (first.value.type !== FrameType.joinRequest) throw new TrellisError('invalid', 'expected a join request');
    const req = parseRequest(first.value.body);
    admitJoiner(req, remoteKey, store, findWorkspace);
    await fs.send({ type: FrameType.joinAccept, body: { added: toHex(remoteKey) } satisfies JoinAccept });
    log(`join: added member ${toHex(remoteKey).slice(0, 8)} to workspace ${req.workspace.slice(0, 8)}`);
  } catch (err) {
    const e = err instanceof TrellisError ? err : new TrellisError('invalid', 'malformed join request');
    log(`join: refused ${toHex(remoteKey).slice(0, 8)}: ${e.message}`);
    await fs.send({ type: FrameType.error, code: e.code, message: e.message }).catch(() => {});
  }
}

/**
 * Any manager's side of a join queued at a relay for an invitation it did not issue (the inviter
 * is offline): `grant` is the inviter's signed ticket, already checked together with the joiner's
 * proof that it holds the secret (src/relay/queued-join.ts). Whether the invitation was used is
 * the workspace's shared state (the `add` entries that cite it), so a code admits one member
 * whichever manager completes it. Codes: `forbidden` and `invalid` are final; `unavailable` and
 * `not-found` mean another manager (or a later try) may still accept it.
 */
export function admitWithGrant(req: JoinRequest & { joiner: string }, grant: InviteGrant, findWorkspace: (idHex: string) => Workspace | undefined): void {
  const ws = findWorkspace(req.workspace);
  if (!ws) throw new TrellisError('not-found', 'this peer does not hold that workspace');
  if (grant.role === 'device') throw new TrellisError('not-found', 'only the inviter can add its own device');
  if (grant.expires < Date.now()) throw new TrellisError('forbidden', `this invitation expired on ${new Date(grant.expires).toISOString()}`);
  const usedBy = ws.state.invites.get(req.invite);
  if (usedBy === req.joiner) return; // admitted already (the relay passed the request on again)
  if (usedBy !== undefined) throw new TrellisError('forbidden', 'this invitation has already been used');
  if (ws.state.revokedInvites.has(req.invite)) throw new TrellisError('forbidden', 'this invitation was revoked by a manager of the workspace');
  const inviter = toHex(grant.inviter);
  // The invitation is worth what its inviter's role is worth now: a removed or demoted manager's
  // invitations lapse. We may not know the latest state: another manager may.
  if (roleOf(ws.state, inviter) !== 'manager') throw new TrellisError('unavailable', 'the inviter is not a manager of this workspace as far as this peer knows');
  if (roleOf(ws.state, ws.selfHex) !== 'manager') throw new TrellisError('unavailable', 'this peer is not a manager of that workspace');
  if (ws.isMember(req.joiner)) return;
  const payload = addPayload(ws, { key: req.joiner, agreementKey: req.agreementKey, name: req.name, role: grant.role, invite: req.invite });
  try {
    ws.appendControl(payload);
  } catch (err) {
    throw new TrellisError('forbidden', `the join cannot be completed: ${(err as Error).message}`);
  }
}
