// Call signalling: the WebRTC offers, answers, ICE candidates and goodbyes that members' browsers
// exchange, through their daemons, to set up a call's media (which then flows browser to browser).
// Carried on the ephemeral channel of sync sessions (SIGNAL frames, never logged), sealed with
// the current epoch key, signed by the sending peer and addressed to one member; peers relay what
// is not for them, as they relay presence. Dropped when older than SIGNAL_TTL_MS, seen before, or
// from or to someone who is not a member.
//   blob = u8 version | 16 workspace | 32 from | 32 to | u32 epoch | u64 counter | u64 time
//          | 24 nonce | u32 length, AEAD(JSON signal) | 64 signature over all before it
import { DecodeError, equalBytes, Reader, toHex, utf8, Writer } from '../core/bytes.ts';
import { aeadOpen, aeadSeal, randomBytes, sign, verify, type KeyPair, AEAD_NONCE_BYTES } from '../crypto/sodium.ts';
import type { Workspace } from './workspace.ts';

export type SignalType = 'offer' | 'answer' | 'ice' | 'bye';
export const SIGNAL_TYPES: readonly SignalType[] = ['offer', 'answer', 'ice', 'bye'];

export interface IceCandidate { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }

export interface CallSignal {
  /** The call (32 hex characters, chosen by whoever started it; members show it in their presence). */
  call: string;
  type: SignalType;
  /** offer and answer: the session description. */
  sdp?: string;
  /** ice: one candidate (an empty candidate string ends the candidates). */
  candidate?: IceCandidate;
}

export interface OpenedSignal { from: string; to: string; counter: number; time: number; signal: CallSignal }

const VERSION = 1;
/** Longest session description carried. */
export const MAX_SDP_CHARS = 24_000;
const MAX_CANDIDATE_CHARS = 1024;
/** A signal older than this (by its sender's clock, with some skew allowed) is dropped. */
export const SIGNAL_TTL_MS = 30_000;
export const CALL_ID = /^[0-9a-f]{32}$/;

/** The signal in `json`, checked field by field, or a reason it is not one. */
export function parseSignal(json: unknown): CallSignal | string {
  if (typeof json !== 'object' || json === null) return 'a signal is an object';
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['call', 'type', 'sdp', 'candidate'].includes(k)) return `unknown signal field ${k}`;
  if (typeof o.call !== 'string' || !CALL_ID.test(o.call)) return 'call is 32 lowercase hex characters';
  if (typeof o.type !== 'string' || !SIGNAL_TYPES.includes(o.type as SignalType)) return `type is one of ${SIGNAL_TYPES.join(', ')}`;
  const type = o.type as SignalType;
  const out: CallSignal = { call: o.call, type };
  if (type === 'offer' || type === 'answer') {
    if (typeof o.sdp !== 'string' || o.sdp.length === 0 || o.sdp.length > MAX_SDP_CHARS) return `an ${type} carries sdp: a string of 1 to ${MAX_SDP_CHARS} characters`;
    out.sdp = o.sdp;
  } else if (o.sdp !== undefined) return `a ${type} carries no sdp`;
  if (type === 'ice') {
    const c = o.candidate as Record<string, unknown> | null | undefined;
    if (typeof c !== 'object' || c === null) return 'an ice signal carries a candidate';
    if (typeof c.candidate !== 'string' || c.candidate.length > MAX_CANDIDATE_CHARS) return `candidate.candidate is a string of at most ${MAX_CANDIDATE_CHARS} characters`;
    const mid = c.sdpMid ?? null;
    const index = c.sdpMLineIndex ?? null;
    if (mid !== null && (typeof mid !== 'string' || mid.length > 64)) return 'candidate.sdpMid is a string of at most 64 characters, or null';
    if (index !== null && (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 255)) return 'candidate.sdpMLineIndex is an integer from 0 to 255, or null';
    out.candidate = { candidate: c.candidate, sdpMid: mid as string | null, sdpMLineIndex: index as number | null };
  } else if (o.candidate !== undefined) return `a ${type} carries no candidate`;
  return out;
}

export function sealSignal(ws: Workspace, signing: KeyPair, to: Uint8Array, counter: number, signal: CallSignal, now = Date.now()): Uint8Array | undefined {
  const epoch = ws.currentEpoch;
  const key = ws.keyFor(epoch);
  if (!key) return undefined;
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  const head = new Writer(160).u8(VERSION).bytes(ws.id).bytes(signing.publicKey).bytes(to).u32(epoch).u64(counter).u64(now).bytes(nonce).finish();
  const ct = aeadSeal(utf8.encode(JSON.stringify(signal)), head, nonce, key);
  const body = new Writer(head.byteLength + 4 + ct.byteLength).bytes(head).u32(ct.byteLength).bytes(ct).finish();
  return new Writer(body.byteLength + 64).bytes(body).bytes(sign(body, signing.secretKey)).finish();
}

/** Verifies and opens a blob; a reason string when it is not acceptable. */
export function openSignal(ws: Workspace, blob: Uint8Array): OpenedSignal | string {
  try {
    const r = new Reader(blob);
    if (r.u8() !== VERSION) return 'unknown call signal version';
    if (!equalBytes(r.bytes_(16), ws.id)) return 'call signal for another workspace';
    const from = r.bytes_(32);
    const to = toHex(r.bytes_(32));
    const epoch = r.u32();
    const counter = r.u64();
    const time = r.u64();
    const nonce = r.bytes_(AEAD_NONCE_BYTES);
    const headLength = r.offset;
    const ct = r.bytes_(r.u32());
    const signedLength = r.offset;
    const sig = r.bytes_(64);
    r.end();
    const fromHex = toHex(from);
    if (!ws.isMember(fromHex)) return 'call signal from a non-member';
    if (!ws.isMember(to)) return 'call signal to a non-member';
    if (!verify(sig, blob.subarray(0, signedLength), from)) return 'bad call signal signature';
    const key = ws.keyFor(epoch);
    const plain = key && aeadOpen(ct, blob.subarray(0, headLength), nonce, key);
    if (!plain) return 'call signal not readable';
    let json: unknown;
    try { json = JSON.parse(utf8.decode(plain)); } catch { return 'call signal is not JSON'; }
    const signal = parseSignal(json);
    if (typeof signal === 'string') return `malformed call signal: ${signal}`;
    return { from: fromHex, to, counter, time, signal };
  } catch (err) {
    if (err instanceof DecodeError) return `malformed call signal: ${err.message}`;
    throw err;
  }
}

/** Signals one member may have let through per SIGNAL_TTL_MS: setting up a call takes a few dozen. */
export const MAX_SIGNALS_PER_MEMBER = 300;

/**
 * Which signals are news: not older than SIGNAL_TTL_MS (nor from too far in the future), not seen
 * before (a signal reaches us once per path), and not beyond MAX_SIGNALS_PER_MEMBER from one sender
 * in that time (a member flooding signals cannot crowd out the others'). Remembers what it let
 * through for as long as such a signal could still come; bounded by how many arrive in that time.
 */
export class SignalFilter {
  private readonly seen = new Map<string, number>();
  private readonly perSender = new Map<string, number[]>();
  private readonly max: number;
  private readonly perMember: number;

  constructor(max = 10_000, perMember = MAX_SIGNALS_PER_MEMBER) { this.max = max; this.perMember = perMember; }

  accept(s: Pick<OpenedSignal, 'from' | 'counter' | 'time'>, now = Date.now()): boolean {
    if (s.time < now - SIGNAL_TTL_MS || s.time > now + SIGNAL_TTL_MS) return false;
    const k = `${s.from}/${s.counter}`;
    if (this.seen.has(k)) return false;
    const recent = (this.perSender.get(s.from) ?? []).filter((t) => t > now - SIGNAL_TTL_MS);
    if (recent.length >= this.perMember) { this.perSender.set(s.from, recent); return false; }
    if (this.seen.size >= this.max) {
      for (const [key, t] of this.seen) if (t < now - 2 * SIGNAL_TTL_MS) this.seen.delete(key);
      for (const [from, times] of this.perSender) if (times.every((t) => t <= now - SIGNAL_TTL_MS)) this.perSender.delete(from);
      if (this.seen.size >= this.max) return false; // a flood: drop rather than forget what we saw
    }
    this.seen.set(k, now);
    recent.push(now);
    this.perSender.set(s.from, recent);
    return true;
  }
}
