// Membership rules: who is in a workspace, with which role, which key epochs exist, and what
// each role may write. Pure and deterministic: every replica that holds the same control entries
// reaches the same verdicts, whatever order they arrived in. The rule (docs/PROTOCOL.md §6):
//
//  1. Control entries are evaluated in the total order T = (clock, author key, seq), a linear
//     extension of causal order.
//  2. An entry is judged by the state made of the valid control entries in its causal past,
//     plus every valid control entry earlier in T (for content entries: any valid control entry)
//     that targets its author, is concurrent with it and did not see it ("concurrent removal or
//     demotion wins"). So a removed member's entries written after the removal, or concurrently
//     with it, are rejected everywhere, and of two managers removing each other, the first in T wins.
import { EntryKind } from './entry.ts';
import type { Vector } from './causal.ts';

export type Role = 'manager' | 'participant' | 'guest';
const ROLE_SET = new Set<string>(['manager', 'participant', 'guest']);
export const isRole = (r: unknown): r is Role => typeof r === 'string' && ROLE_SET.has(r);

/** Boxes: hex of a sealed box (to an X25519 key) or of nonce‖AEAD under the epoch-0 key. */
export type EpochKeys = Record<string, string>;

/** Control entries, as public JSON (relays can check them without keys). Byte fields are hex. */
export type ControlPayload =
  | { type: 'create'; nonce: string; agreementKey: string; nameBox: string; memberNameBox: string; keys: EpochKeys }
  | { type: 'add'; key: string; agreementKey: string; role: Role; nameBox: string; invite: string; keys: EpochKeys }
  | { type: 'role'; key: string; role: Role }
  | { type: 'remove'; key: string; epoch?: number; keys?: EpochKeys }
  | { type: 'rotate'; epoch: number; keys: EpochKeys }
  | { type: 'share'; key: string; keys: EpochKeys }
  | { type: 'permissions'; table: PermissionTable }
  | { type: 'device'; key: string; agreementKey: string; nameBox: string; keys: EpochKeys }
  // -- relays (src/relay/): a manager attaches or detaches a relay, named by its signing key --
  | { type: 'relay'; key: string; addrs: string[] }
  | { type: 'unrelay'; key: string }
  // -- a manager revokes an invitation (by its id) before it is used --
  | { type: 'uninvite'; invite: string };

/** The `invite` of an `add` a manager wrote without an invitation. */
export const NO_INVITE = '00'.repeat(32);

/** Which roles may write each content kind. Control entries are for managers (and self-service). */
export type PermissionTable = { chat: Role[]; doc: Role[] };
export const DEFAULT_PERMISSIONS: PermissionTable = { chat: ['manager', 'participant', 'guest'], doc: ['manager', 'participant'] };

export interface MemberRecord {
  keyHex: string;
  agreementKey: string;
  /** For persons; a device has its owner's role. */
  role: Role;
  nameBox: string;
  /** Set for a device: the key of the member it belongs to. */
  owner?: string;
}

export interface EpochRecord {
  epoch: number;
  /** Members (and devices) the key was sealed to. */
  recipients: Set<string>;
}

/** A relay attached to the workspace: it stores and forwards entries for members (src/relay/). */
export interface RelayRecord {
  keyHex: string;
  /** Multiaddrs to dial it at, as the attaching manager wrote them. */
  addrs: string[];
  /** The manager whose `relay` entry attached it (a relay may honour only some managers). */
  by: string;
}

export interface MembershipState {
  creator?: string;
  workspaceNameBox?: string;
  members: Map<string, MemberRecord>;
  removed: Set<string>;
  epochs: Map<number, EpochRecord>;
  /** The epoch writers should use: the last valid rotation in T. */
  currentEpoch: number;
  permissions: PermissionTable;
  /** Relays attached by valid `relay` entries and not detached since (relay key hex → record). */
  relays: Map<string, RelayRecord>;
  /** Invitations used by valid `add` entries: invite id (hex) → the key it admitted. */
  invites: Map<string, string>;
  /** Invitations revoked by valid `uninvite` entries: invite id (hex) → the manager who revoked it. */
  revokedInvites: Map<string, string>;
}

export interface ControlRecord {
  id: string;
  author: string;
  seq: number;
  clock: number;
  payload: ControlPayload;
  /** Causal past (seqs of other authors). */
  vv: Vector;
}

const hex = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v);
const box = (v: unknown): v is string => typeof v === 'string' && v.length >= 2 && v.length <= 2048 && v.length % 2 === 0 && /^[0-9a-f]+$/.test(v);
const epochId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 0xffff_ffff;

function keysOk(v: unknown, keyIsMember: boolean): v is EpochKeys {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  if (entries.length > 100_000) return false;
  return entries.every(([k, b]) => (keyIsMember ? hex(k, 32) : /^(0|[1-9][0-9]{0,9})$/.test(k)) && box(b));
}

/** Relay addresses: 1–8 multiaddr texts, printable ASCII, so they can be dialled and shown as they are. */
export const MAX_RELAY_ADDRS = 8;
function addrsOk(v: unknown): v is string[] {
  return Array.isArray(v) && v.length >= 1 && v.length <= MAX_RELAY_ADDRS
    && v.every((a) => typeof a === 'string' && a.length <= 256 && /^\/[\x21-\x7e]+$/.test(a));
}

function rolesOk(v: unknown): v is Role[] {
  return Array.isArray(v) && v.length <= 3 && v.every(isRole);
}

/** Parses a control payload; returns a reason string when it is not a valid one. */
export function parseControl(json: unknown): ControlPayload | string {
  if (typeof json !== 'object' || json === null) return 'control payload is not an object';
  const o = json as Record<string, unknown>;
  switch (o.type) {
    case 'create':
      if (!hex(o.nonce, 16) || !hex(o.agreementKey, 32) || !box(o.nameBox) || !box(o.memberNameBox) || !keysOk(o.keys, false)) return 'malformed create';
      return { type: 'create', nonce: o.nonce, agreementKey: o.agreementKey, nameBox: o.nameBox, memberNameBox: o.memberNameBox, keys: o.keys };
    case 'add':
      if (!hex(o.key, 32) || !hex(o.agreementKey, 32) || !isRole(o.role) || !box(o.nameBox) || !hex(o.invite, 32) || !keysOk(o.keys, false)) return 'malformed add';
      return { type: 'add', key: o.key, agreementKey: o.agreementKey, role: o.role, nameBox: o.nameBox, invite: o.invite, keys: o.keys };
    case 'role':
      if (!hex(o.key, 32) || !isRole(o.role)) return 'malformed role change';
      return { type: 'role', key: o.key, role: o.role };
    case 'remove':
      if (!hex(o.key, 32)) return 'malformed remove';
      if (o.epoch === undefined && o.keys === undefined) return { type: 'remove', key: o.key };
      if (!epochId(o.epoch) || !keysOk(o.keys, true)) return 'malformed remove';
      return { type: 'remove', key: o.key, epoch: o.epoch, keys: o.keys };
    case 'rotate':
      if (!epochId(o.epoch) || !keysOk(o.keys, true)) return 'malformed rotate';
      return { type: 'rotate', epoch: o.epoch, keys: o.keys };
    case 'share':
      if (!hex(o.key, 32) || !keysOk(o.keys, false)) return 'malformed share';
      return { type: 'share', key: o.key, keys: o.keys };
    case 'permissions': {
      const t = o.table as Record<string, unknown> | undefined;
      if (typeof t !== 'object' || t === null || !rolesOk(t.chat) || !rolesOk(t.doc)) return 'malformed permissions';
      return { type: 'permissions', table: { chat: [...t.chat], doc: [...t.doc] } };
    }
    case 'device':
      if (!hex(o.key, 32) || !hex(o.agreementKey, 32) || !box(o.nameBox) || !keysOk(o.keys, false)) return 'malformed device';
      return { type: 'device', key: o.key, agreementKey: o.agreementKey, nameBox: o.nameBox, keys: o.keys };
    case 'relay':
      if (!hex(o.key, 32) || !addrsOk(o.addrs)) return 'malformed relay';
      return { type: 'relay', key: o.key, addrs: [...o.addrs] };
    case 'unrelay':
      if (!hex(o.key, 32)) return 'malformed unrelay';
      return { type: 'unrelay', key: o.key };
    case 'uninvite':
      if (!hex(o.invite, 32) || o.invite === NO_INVITE) return 'malformed uninvite';
      return { type: 'uninvite', invite: o.invite };
    default:
      return 'unknown control type';
  }
}

export function emptyState(): MembershipState {
  return { members: new Map(), removed: new Set(), epochs: new Map(), currentEpoch: 0, permissions: DEFAULT_PERMISSIONS, relays: new Map(), invites: new Map(), revokedInvites: new Map() };
}

function cloneState(s: MembershipState): MembershipState {
  return {
    ...(s.creator !== undefined ? { creator: s.creator } : {}),
    ...(s.workspaceNameBox !== undefined ? { workspaceNameBox: s.workspaceNameBox } : {}),
    members: new Map([...s.members].map(([k, m]) => [k, { ...m }])),
    removed: new Set(s.removed),
    epochs: new Map([...s.epochs].map(([k, e]) => [k, { epoch: e.epoch, recipients: new Set(e.recipients) }])),
    currentEpoch: s.currentEpoch,
    permissions: s.permissions,
    relays: new Map([...s.relays].map(([k, r]) => [k, { ...r, addrs: [...r.addrs] }])),
    invites: new Map(s.invites),
    revokedInvites: new Map(s.revokedInvites),
  };
}

/** The role a key acts with: its own, or its owner's for a device. Undefined if not a member. */
export function roleOf(s: MembershipState, keyHex: string): Role | undefined {
  const m = s.members.get(keyHex);
  if (!m) return undefined;
  if (m.owner === undefined) return m.role;
  return s.members.get(m.owner)?.role;
}

/** Person keys a control entry targets (for rule 2). A device is targeted through its owner too. */
function targetOf(p: ControlPayload): string | undefined {
  return p.type === 'role' || p.type === 'remove' ? p.key : undefined;
}

/** Why `author` (at seq) may not perform `p` in state `s`, or undefined. */
function refuseControl(s: MembershipState, r: ControlRecord, workspaceHex: string, idFor: (creator: string, nonce: string) => string): string | undefined {
  const p = r.payload;
  if (p.type === 'create') {
    if (s.creator !== undefined) return 'workspace already created';
    if (r.seq !== 1) return 'create must be its author\'s first entry';
    if (idFor(r.author, p.nonce) !== workspaceHex) return 'create does not match the workspace id';
    return undefined;
  }
  const role = roleOf(s, r.author);
  if (role === undefined) return 'author is not a member';
  const isDevice = s.members.get(r.author)?.owner !== undefined;
  const manager = role === 'manager';
  switch (p.type) {
    case 'add':
      if (!manager) return `a ${role} may not add members`;
      if (s.members.has(p.key)) return 'already a member';
      return undefined;
    case 'role':
      if (!manager) return `a ${role} may not change roles`;
      if (!s.members.has(p.key) || s.members.get(p.key)!.owner !== undefined) return 'no such member';
      return undefined;
    case 'remove': {
      const target = s.members.get(p.key);
      if (!target) return 'no such member';
      const self = p.key === r.author || (target.owner !== undefined && target.owner === (isDevice ? s.members.get(r.author)!.owner : r.author));
      if (!manager && !self) return `a ${role} may only remove themselves or their own devices`;
      if (p.epoch !== undefined && s.epochs.has(p.epoch)) return 'epoch id already used';
      return undefined;
    }
    case 'rotate':
      if (!manager) return `a ${role} may not rotate the key`;
      if (s.epochs.has(p.epoch)) return 'epoch id already used';
      return undefined;
    case 'share':
      // Any member may pass keys it holds to another member: a member could leak them anyway, and
      // keys from a rotation that lost a race may be held only by non-managers.
      if (!s.members.has(p.key)) return 'no such member';
      return undefined;
    case 'permissions':
      if (!manager) return `a ${role} may not change permissions`;
      return undefined;
    case 'device':
      if (isDevice) return 'a device may not add devices';
      if (s.members.has(p.key)) return 'already a member';
      return undefined;
    case 'relay':
      if (!manager) return `a ${role} may not attach relays`;
      return undefined;
    case 'unrelay':
      if (!manager) return `a ${role} may not detach relays`;
      if (!s.relays.has(p.key)) return 'no such relay';
      return undefined;
    case 'uninvite':
      if (!manager) return `a ${role} may not revoke invitations`;
      if (s.invites.has(p.invite)) return 'this invitation has already been used';
      if (s.revokedInvites.has(p.invite)) return 'this invitation is revoked already';
      return undefined;
  }
}

function applyControl(s: MembershipState, r: ControlRecord): void {
  const p = r.payload;
  switch (p.type) {
    case 'create':
      s.creator = r.author;
      s.workspaceNameBox = p.nameBox;
      s.members.set(r.author, { keyHex: r.author, agreementKey: p.agreementKey, role: 'manager', nameBox: p.memberNameBox });
      s.epochs.set(0, { epoch: 0, recipients: new Set([r.author]) });
      return;
    case 'add':
      s.members.set(p.key, { keyHex: p.key, agreementKey: p.agreementKey, role: p.role, nameBox: p.nameBox });
      s.removed.delete(p.key);
      if (p.invite !== NO_INVITE) s.invites.set(p.invite, p.key);
      for (const e of Object.keys(p.keys)) s.epochs.get(Number(e))?.recipients.add(p.key);
      return;
    case 'device':
      s.members.set(p.key, { keyHex: p.key, agreementKey: p.agreementKey, role: 'guest', nameBox: p.nameBox, owner: r.author });
      s.removed.delete(p.key);
      for (const e of Object.keys(p.keys)) s.epochs.get(Number(e))?.recipients.add(p.key);
      return;
    case 'role': {
      const m = s.members.get(p.key);
      if (m) m.role = p.role;
      return;
    }
    case 'remove': {
      // Removing a person removes their devices too.
      for (const [k, m] of s.members) {
        if (k === p.key || m.owner === p.key) { s.members.delete(k); s.removed.add(k); }
      }
      if (p.epoch !== undefined && p.keys) rotate(s, p.epoch, p.keys);
      return;
    }
    case 'rotate': rotate(s, p.epoch, p.keys); return;
    case 'share':
      for (const e of Object.keys(p.keys)) s.epochs.get(Number(e))?.recipients.add(p.key);
      return;
    case 'permissions': s.permissions = p.table; return;
    // Attaching an attached relay again replaces its addresses.
    case 'relay': s.relays.set(p.key, { keyHex: p.key, addrs: [...p.addrs], by: r.author }); return;
    case 'unrelay': s.relays.delete(p.key); return;
    case 'uninvite': s.revokedInvites.set(p.invite, r.author); return;
  }
}

function rotate(s: MembershipState, epoch: number, keys: EpochKeys): void {
  s.epochs.set(epoch, { epoch, recipients: new Set(Object.keys(keys)) });
  s.currentEpoch = epoch;
}

/**
 * An invitation admits one member, and none once revoked (rule 2c): an `add` citing an invitation
 * that a valid `add` or `uninvite` earlier in T cited is void, whether it saw that one or not. So
 * when two managers complete one invitation concurrently (a join queued at a relay, src/relay/),
 * or one completes it while another revokes it, every replica decides the same way: the first in
 * T wins. `running` holds every valid entry earlier in T, a superset of the entry's causal past.
 */
function inviteUsed(running: MembershipState, r: ControlRecord): string | undefined {
  const p = r.payload;
  if (p.type !== 'add' || p.invite === NO_INVITE) return undefined;
  const by = running.invites.get(p.invite);
  if (by !== undefined) return `this invitation has already been used (by ${by.slice(0, 8)})`;
  const revoker = running.revokedInvites.get(p.invite);
  return revoker === undefined ? undefined : `this invitation was revoked (by ${revoker.slice(0, 8)})`;
}

/** True when control record `v` is in the causal past of the entry (author, seq, vv). */
function inPast(v: ControlRecord, author: string, seq: number, vv: Vector): boolean {
  return v.author === author ? v.seq <= seq : (vv.get(v.author) ?? 0) >= v.seq;
}

function tOrder(a: ControlRecord, b: ControlRecord): number {
  if (a.clock !== b.clock) return a.clock - b.clock;
  if (a.author !== b.author) return a.author < b.author ? -1 : 1;
  return a.seq - b.seq;
}

/** Content kinds and the permission-table column that governs them. */
function column(kind: number): keyof PermissionTable | undefined {
  if (kind === EntryKind.chat) return 'chat';
  if (kind === EntryKind.docUpdate) return 'doc';
  return undefined;
}

export class MembershipResolver {
  private readonly workspaceHex: string;
  private readonly idFor: (creator: string, nonce: string) => string;
  private records: ControlRecord[] = [];
  private dirty = false;
  private verdicts = new Map<string, string | undefined>();
  private valid: ControlRecord[] = [];
  private final: MembershipState = emptyState();
  /** Highest seq per author among valid control entries: an entry whose causal past covers it sees them all. */
  private frontier = new Map<string, number>();

  constructor(workspaceHex: string, idFor: (creator: string, nonce: string) => string) {
    this.workspaceHex = workspaceHex;
    this.idFor = idFor;
  }

  /** Adds a control entry; returns true when it is the last in T (nothing already held is re-judged). */
  add(r: ControlRecord): boolean {
    // Usually the new entry is last in T: insert from the end.
    let i = this.records.length;
    while (i > 0 && tOrder(r, this.records[i - 1]) < 0) i--;
    this.records.splice(i, 0, r);
    this.dirty = true;
    return i === this.records.length - 1;
  }

  /** Voids an author's control entries from `seq` on (the author forked its log there). */
  voidFrom(author: string, seq: number): void {
    const before = this.records.length;
    this.records = this.records.filter((r) => r.author !== author || r.seq < seq);
    if (this.records.length !== before) this.dirty = true;
  }

  /** Takes back an entry added to see its verdict (a local write that turned out not permitted). */
  remove(id: string): void {
    const i = this.records.findIndex((r) => r.id === id);
    if (i >= 0) { this.records.splice(i, 1); this.dirty = true; }
  }

  get size(): number { return this.records.length; }

  private resolve(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const verdicts = new Map<string, string | undefined>();
    const valid: ControlRecord[] = [];
    const running = emptyState();
    const frontier = new Map<string, number>();
    for (const r of this.records) {
      // Fast path: every valid entry so far is in r's causal past, so the running state is r's.
      let covered = true;
      for (const [a, s] of frontier) {
        if (!(a === r.author ? s <= r.seq : (r.vv.get(a) ?? 0) >= s)) { covered = false; break; }
      }
      const state = covered ? running : this.stateFor(valid, r.author, r.seq, r.vv, valid);
      const why = refuseControl(state, r, this.workspaceHex, this.idFor) ?? inviteUsed(running, r);
      verdicts.set(r.id, why);
      if (why) continue;
      valid.push(r);
      applyControl(running, r);
      if ((frontier.get(r.author) ?? 0) < r.seq) frontier.set(r.author, r.seq);
    }
    this.verdicts = verdicts;
    this.valid = valid;
    this.final = running;
    this.frontier = frontier;
  }

  /**
   * State for an entry of `author` at `seq` with causal past `vv`: the valid entries in its past,
   * then (rule 2) the valid entries among `concurrentPool` that target the author and did not see it.
   */
  private stateFor(valid: ControlRecord[], author: string, seq: number, vv: Vector, concurrentPool: ControlRecord[]): MembershipState {
    const s = emptyState();
    const late: ControlRecord[] = [];
    for (const v of valid) {
      if (inPast(v, author, seq, vv)) applyControl(s, v);
    }
    const owner = s.members.get(author)?.owner;
    for (const v of concurrentPool) {
      if (inPast(v, author, seq, vv)) continue;
      const t = targetOf(v.payload);
      if (t === undefined || (t !== author && t !== owner)) continue;
      // It saw this entry (its own earlier entry, or one in its causal past): not concurrent.
      if (v.author === author ? v.seq >= seq : (v.vv.get(author) ?? 0) >= seq) continue;
      late.push(v);
    }
    for (const v of late) applyControl(s, v);
    return s;
  }

  /** The reason a control entry is invalid, or undefined if valid. */
  verdict(id: string): string | undefined {
    this.resolve();
    if (!this.verdicts.has(id)) return 'unknown control entry';
    return this.verdicts.get(id);
  }

  get state(): MembershipState {
    this.resolve();
    return this.final;
  }

  /** Why a content entry of `kind` by `author` at `seq` with causal past `vv` is not permitted, or undefined. */
  refuseContent(author: string, seq: number, vv: Vector, kind: number): string | undefined {
    const col = column(kind);
    if (!col) return `entry kind ${kind} is not content`;
    const state = this.contentState(author, seq, vv);
    const role = roleOf(state, author);
    if (role === undefined) return state.removed.has(author) ? 'author was removed' : 'author is not a member';
    if (!state.permissions[col].includes(role)) return `a ${role} may not write ${col} entries`;
    return undefined;
  }

  /**
   * The state a content entry of (author, seq, vv) is judged in (rule 3): the valid control entries
   * in its causal past plus every valid one that targets its author and did not see it. Relays use
   * it to refuse entries from authors who are not members there (src/relay/blind-replica.ts).
   */
  contentState(author: string, seq: number, vv: Vector): MembershipState {
    this.resolve();
    let covered = true;
    for (const [a, s] of this.frontier) {
      if (!(a === author ? s <= seq : (vv.get(a) ?? 0) >= s)) { covered = false; break; }
    }
    return covered ? this.final : this.stateFor(this.valid, author, seq, vv, this.valid);
  }

  /** A copy of the final state, for callers that must not see later changes. */
  snapshot(): MembershipState {
    return cloneState(this.state);
  }
}
