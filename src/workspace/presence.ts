// Presence: who is online in a workspace, in which tool, typing, idle. Carried on the ephemeral
// channel of sync sessions (never logged), sealed with the current epoch key and signed, relayed
// by peers to their other sessions, and forgotten when not refreshed.
//   blob = u8 version | 16 workspace | 32 author | u32 epoch | u64 counter | u64 time
//          | 24 nonce | u16 length, AEAD(JSON state) | 64 signature over all before it
import { DecodeError, equalBytes, Reader, toHex, utf8, Writer } from '../core/bytes.ts';
import { aeadOpen, aeadSeal, randomBytes, sign, verify, type KeyPair, AEAD_NONCE_BYTES } from '../crypto/sodium.ts';
import type { Workspace } from './workspace.ts';

export interface PresenceState {
  /** The tool (instance id or type) the member has open, if any. */
  tool?: string;
  typing?: boolean;
  /** No activity for 15 minutes. */
  idle?: boolean;
  /** Where the member's cursor is in a document: opaque editor data (a Yjs awareness state, JSON). */
  cursor?: { doc: string; data: string };
  /** The call (32 hex) the member is in: how others see a call going on, and who to connect to. */
  call?: string;
}

/** Longest cursor data carried: the whole blob must stay under MAX_PRESENCE_BYTES. */
export const MAX_CURSOR_CHARS = 1200;

export interface PresenceRecord {
  author: string;
  counter: number;
  time: number;
  state: PresenceState;
  /** When we last heard it (our clock). */
  seen: number;
}

const VERSION = 1;
/** A presence not refreshed within this is dropped: peers announce every ANNOUNCE_MS. */
export const PRESENCE_TTL_MS = 7_000;
export const ANNOUNCE_MS = 2_500;

function parseState(json: unknown): PresenceState | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  const out: PresenceState = {};
  if (o.tool !== undefined) { if (typeof o.tool !== 'string' || o.tool.length > 64) return undefined; out.tool = o.tool; }
  if (o.typing !== undefined) { if (typeof o.typing !== 'boolean') return undefined; out.typing = o.typing; }
  if (o.idle !== undefined) { if (typeof o.idle !== 'boolean') return undefined; out.idle = o.idle; }
  if (o.cursor !== undefined) {
    const c = o.cursor as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null || typeof c.doc !== 'string' || !/^[0-9a-f]{32}$/.test(c.doc)
      || typeof c.data !== 'string' || c.data.length > MAX_CURSOR_CHARS) return undefined;
    out.cursor = { doc: c.doc, data: c.data };
  }
  if (o.call !== undefined) { if (typeof o.call !== 'string' || !/^[0-9a-f]{32}$/.test(o.call)) return undefined; out.call = o.call; }
  return out;
}

export function sealPresence(ws: Workspace, signing: KeyPair, counter: number, state: PresenceState): Uint8Array | undefined {
  const epoch = ws.currentEpoch;
  const key = ws.keyFor(epoch);
  if (!key) return undefined;
  const w = new Writer(256);
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  w.u8(VERSION).bytes(ws.id).bytes(signing.publicKey).u32(epoch).u64(counter).u64(Date.now()).bytes(nonce);
  const head = w.finish();
  const ct = aeadSeal(utf8.encode(JSON.stringify(state)), head, nonce, key);
  const body = new Writer(head.byteLength + 2 + ct.byteLength + 64).bytes(head).u16(ct.byteLength).bytes(ct).finish();
  return new Writer(body.byteLength + 64).bytes(body).bytes(sign(body, signing.secretKey)).finish();
}

/** Verifies and opens a blob; a reason string when it is not acceptable. */
export function openPresence(ws: Workspace, blob: Uint8Array): Omit<PresenceRecord, 'seen'> | string {
  try {
    const r = new Reader(blob);
    if (r.u8() !== VERSION) return 'unknown presence version';
    const workspace = r.bytes_(16);
    if (!equalBytes(workspace, ws.id)) return 'presence for another workspace';
    const author = r.bytes_(32);
    const epoch = r.u32();
    const counter = r.u64();
    const time = r.u64();
    const nonce = r.bytes_(AEAD_NONCE_BYTES);
    const headLength = r.offset;
    const ct = r.bytes_(r.u16());
    const signedLength = r.offset;
    const sig = r.bytes_(64);
    r.end();
    const authorHex = toHex(author);
    if (!ws.isMember(authorHex)) return 'presence from a non-member';
    if (!verify(sig, blob.subarray(0, signedLength), author)) return 'bad presence signature';
    const key = ws.keyFor(epoch);
    const plain = key && aeadOpen(ct, blob.subarray(0, headLength), nonce, key);
    if (!plain) return 'presence not readable';
    let json: unknown;
    try { json = JSON.parse(utf8.decode(plain)); } catch { return 'presence is not JSON'; }
    const state = parseState(json);
    if (!state) return 'malformed presence';
    return { author: authorHex, counter, time, state };
  } catch (err) {
    if (err instanceof DecodeError) return `malformed presence: ${err.message}`;
    throw err;
  }
}

/** Latest presence per member of one workspace; a newer counter replaces an older one. */
export class PresenceTable {
  private readonly records = new Map<string, PresenceRecord>();

  /** True if the record is news (to be relayed further). */
  update(r: Omit<PresenceRecord, 'seen'>, now = Date.now()): boolean {
    const old = this.records.get(r.author);
    if (old && old.counter >= r.counter) {
      return false;
    }
    this.records.set(r.author, { ...r, seen: now });
    return true;
  }

  get(author: string, now = Date.now()): PresenceRecord | undefined {
    const r = this.records.get(author);
    if (!r) return undefined;
    if (now - r.seen > PRESENCE_TTL_MS) { this.records.delete(author); return undefined; }
    return r;
  }

  forget(author: string): void { this.records.delete(author); }
}
