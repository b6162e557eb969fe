// Membership rules: who is in a workspace, with which role, and what each role may write.
// Pure: every replica applies the same control entries in a causal order and reaches the same
// verdicts. (Concurrent removals and role changes arrive with the roles issue; until then the
// only control entries are `create` and `add`, which commute.)
import { toHex } from './bytes.ts';
import { EntryKind } from './entry.ts';

export type Role = 'manager' | 'participant' | 'guest';
const ROLE_SET = new Set<string>(['manager', 'participant', 'guest']);
export const isRole = (r: unknown): r is Role => typeof r === 'string' && ROLE_SET.has(r);

export interface Member {
  key: Uint8Array;
  keyHex: string;
  /** X25519 key to seal workspace keys to. */
  agreementKey: Uint8Array;
  name: string;
  role: Role;
}

/** Control entries, as JSON inside the encrypted payload. Byte fields are hex. */
export type ControlPayload =
  | { type: 'create'; name: string; nonce: string; agreementKey: string; memberName: string }
  | { type: 'add'; key: string; agreementKey: string; name: string; role: Role; invite: string };

/** Which entry kinds each role may write (the default permission table). */
const WRITE: Record<Role, ReadonlySet<number>> = {
  manager: new Set([EntryKind.control, EntryKind.chat, EntryKind.docUpdate]),
  participant: new Set([EntryKind.chat, EntryKind.docUpdate]),
  guest: new Set([EntryKind.chat]),
};

const hex = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v);
const text = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max && !/[\u0000-\u001f\u007f]/.test(v);

/** Parses a control payload; returns a reason string when it is not a valid one. */
export function parseControl(json: unknown): ControlPayload | string {
  if (typeof json !== 'object' || json === null) return 'control payload is not an object';
  const o = json as Record<string, unknown>;
  if (o.type === 'create') {
    if (!text(o.name, 200) || !hex(o.nonce, 16) || !hex(o.agreementKey, 32) || !text(o.memberName, 100)) return 'malformed create';
    return { type: 'create', name: o.name, nonce: o.nonce, agreementKey: o.agreementKey, memberName: o.memberName };
  }
  if (o.type === 'add') {
    if (!hex(o.key, 32) || !hex(o.agreementKey, 32) || !text(o.name, 100) || !isRole(o.role) || !hex(o.invite, 32)) return 'malformed add';
    return { type: 'add', key: o.key, agreementKey: o.agreementKey, name: o.name, role: o.role, invite: o.invite };
  }
  return 'unknown control type';
}

export class Membership {
  readonly members = new Map<string, Member>();
  name = '';
  creator: string | undefined;

  get(keyHex: string): Member | undefined { return this.members.get(keyHex); }

  /** Why `authorHex` may not write an entry of `kind`, or undefined if it may. */
  refuseWrite(authorHex: string, kind: number): string | undefined {
    const m = this.members.get(authorHex);
    if (!m) return 'author is not a member';
    if (!WRITE[m.role].has(kind)) return `a ${m.role} may not write ${kindName(kind)} entries`;
    return undefined;
  }

  /**
   * Checks a control entry against the current state; returns a reason to reject it, or
   * undefined. `expectedId` computes the workspace id a `create` must match.
   */
  refuseControl(author: Uint8Array, seq: number, c: ControlPayload, workspaceIdFor: (creator: Uint8Array, nonce: string) => string, workspaceHex: string): string | undefined {
    const authorHex = toHex(author);
    if (c.type === 'create') {
      if (this.creator !== undefined) return 'workspace already created';
      if (seq !== 1) return 'create must be its author\'s first entry';
      if (workspaceIdFor(author, c.nonce) !== workspaceHex) return 'create does not match the workspace id';
      return undefined;
    }
    const refused = this.refuseWrite(authorHex, EntryKind.control);
    if (refused) return refused;
    if (this.members.has(c.key)) return 'already a member';
    return undefined;
  }

  apply(author: Uint8Array, c: ControlPayload): void {
    if (c.type === 'create') {
      const keyHex = toHex(author);
      this.creator = keyHex;
      this.name = c.name;
      this.members.set(keyHex, { key: author, keyHex, agreementKey: fromHexBytes(c.agreementKey), name: c.memberName, role: 'manager' });
      return;
    }
    this.members.set(c.key, { key: fromHexBytes(c.key), keyHex: c.key, agreementKey: fromHexBytes(c.agreementKey), name: c.name, role: c.role });
  }
}

function fromHexBytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

export function kindName(kind: number): string {
  for (const [name, k] of Object.entries(EntryKind)) if (k === kind) return name;
  return `kind ${kind}`;
}
