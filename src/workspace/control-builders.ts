// Builds control payloads: the keys they carry are sealed to each recipient's X25519 key, and
// names are sealed under the epoch-0 key (relays see keys and roles, never names).
import { fromHex, toHex, utf8 } from '../core/bytes.ts';
import type { ControlPayload, EpochKeys, Role } from '../core/membership.ts';
import { sealLocal } from '../crypto/local-seal.ts';
import { AEAD_KEY_BYTES, randomBytes, sealTo } from '../crypto/sodium.ts';
import type { Workspace } from './workspace.ts';

export function nameBox(name: string, key0: Uint8Array, workspace: Uint8Array): string {
  return toHex(sealLocal(utf8.encode(name), key0, workspace));
}

/** Every epoch key we hold, sealed to one recipient (a new member gets the whole history). */
export function allKeysFor(ws: Workspace, agreementKeyHex: string): EpochKeys {
  const out: EpochKeys = {};
  const to = fromHex(agreementKeyHex);
  for (const epoch of ws.heldEpochs()) out[String(epoch)] = toHex(sealTo(ws.keyFor(epoch)!, to));
  return out;
}

function key0(ws: Workspace): Uint8Array {
  const k = ws.keyFor(0);
  if (!k) throw new Error('the workspace\'s first key is not held yet');
  return k;
}

export function addPayload(ws: Workspace, m: { key: string; agreementKey: string; name: string; role: Role; invite: string }): ControlPayload {
  return { type: 'add', key: m.key, agreementKey: m.agreementKey, role: m.role, nameBox: nameBox(m.name, key0(ws), ws.id), invite: m.invite, keys: allKeysFor(ws, m.agreementKey) };
}

export function devicePayload(ws: Workspace, d: { key: string; agreementKey: string; name: string }): ControlPayload {
  return { type: 'device', key: d.key, agreementKey: d.agreementKey, nameBox: nameBox(d.name, key0(ws), ws.id), keys: allKeysFor(ws, d.agreementKey) };
}

/** A fresh epoch: a new key sealed to every current member except `without`. */
export function newEpoch(ws: Workspace, without?: string): { epoch: number; keys: EpochKeys; key: Uint8Array } {
  const key = randomBytes(AEAD_KEY_BYTES);
  let epoch = 0;
  const used = new Set(ws.state.epochs.keys());
  while (epoch === 0 || used.has(epoch)) epoch = new DataView(randomBytes(4).buffer).getUint32(0);
  const keys: EpochKeys = {};
  for (const m of ws.members()) {
    if (without !== undefined && (m.keyHex === without || m.owner === without)) continue;
    keys[m.keyHex] = toHex(sealTo(key, fromHex(m.agreementKey)));
  }
  return { epoch, keys, key };
}

export function sharePayload(ws: Workspace, memberHex: string): ControlPayload {
  const m = ws.member(memberHex);
  if (!m) throw new Error('no such member');
  return { type: 'share', key: memberHex, keys: allKeysFor(ws, m.agreementKey) };
}
