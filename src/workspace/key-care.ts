// Key care: what a manager must write so the current key is held by exactly the members.
// If the current key was sealed to someone who is no longer a member (a member left, or two
// rotations crossed), a manager starts a new epoch; any member shares keys it holds with members
// lacking them. Several peers may do it at once; the extra entries are harmless.
import type { ControlPayload } from '../core/membership.ts';
import { newEpoch, sharePayload } from './control-builders.ts';
import type { Workspace } from './workspace.ts';

export function keyCare(ws: Workspace): ControlPayload[] {
  const role = ws.member(ws.selfHex)?.role;
  if (!role) return [];
  const s = ws.state;
  // Who was sent the current key by any entry, even one without effect (a re-add that lost a race
  // still handed over the keys): if that includes a non-member, the key is spent.
  const sentTo = ws.epochRecipients.get(s.currentEpoch);
  // A manager need not hold the current key to replace it (it may have gone only to members who left).
  const lacking = !ws.keyFor(s.currentEpoch) && ws.members().every((m) => !sentTo?.has(m.keyHex));
  if (role === 'manager' && sentTo && ([...sentTo].some((k) => !s.members.has(k)) || lacking)) {
    const { epoch, keys } = newEpoch(ws);
    return [{ type: 'rotate', epoch, keys }];
  }
  // A member may lack the current key (added concurrently with a rotation) or an older one that
  // content was written under (from a rotation that lost to a concurrent one): share what we hold.
  const held = ws.heldEpochs();
  return ws.members()
    .filter((m) => held.some((e) => !ws.epochRecipients.get(e)?.has(m.keyHex)))
    .map((m) => sharePayload(ws, m.keyHex));
}
