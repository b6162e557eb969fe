// The entry: Trellis's unit of change (Groove's "delta"). This file is the wire spec of an entry;
// docs/PROTOCOL.md describes the same layout. Pure: encoding and decoding only, no crypto, no I/O.
import { DecodeError, Reader, Writer } from './bytes.ts';

export const ENTRY_VERSION = 1;
export const WORKSPACE_ID_BYTES = 16;
export const KEY_BYTES = 32;
export const HASH_BYTES = 32;
export const NONCE_BYTES = 24;
export const SIGNATURE_BYTES = 64;
/** Hard cap on one entry's encoding (a key rotation for ~4,000 members fits); files travel as chunks. */
export const MAX_ENTRY_BYTES = 1024 * 1024;
export const MAX_DEPS = 1024;

/** What an entry carries; decides how its plaintext is read and who may write it. */
export const EntryKind = {
  /** Workspace membership and settings (create, add member, …): JSON. */
  control: 1,
  /** A chat message: JSON {text}. */
  chat: 2,
  /** A Yjs update for one tool document: 16-byte doc id then the update. */
  docUpdate: 3,
} as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];
const KNOWN_KINDS = new Set<number>(Object.values(EntryKind));

/** A causal dependency: the head of another author's log that the writer had seen. */
export interface Dep {
  author: Uint8Array;
  seq: number;
  hash: Uint8Array;
}

/** Everything an author signs, except the ciphertext. */
export interface EntryHeader {
  kind: EntryKind;
  workspace: Uint8Array;
  author: Uint8Array;
  epoch: number;
  seq: number;
  /** Lamport clock: greater than the clock of every entry in its causal past. Gives a total order. */
  clock: number;
  /** Author's wall clock, ms since the epoch; informative only (shown to users). */
  time: number;
  prevHash: Uint8Array;
  deps: Dep[];
  nonce: Uint8Array;
}

export interface Entry extends EntryHeader {
  ciphertext: Uint8Array;
  signature: Uint8Array;
  /** The whole encoding, as stored and sent. */
  bytes: Uint8Array;
  /** Length of the signed part (everything before the signature). */
  signedLength: number;
  /** Length of the associated data of the AEAD (the header, before the ciphertext length). */
  headerLength: number;
}

export const ZERO_HASH = new Uint8Array(HASH_BYTES);

/** Encodes the header; the AEAD binds the ciphertext to exactly these bytes. */
export function encodeHeader(h: EntryHeader): Uint8Array {
  const w = new Writer(160 + h.deps.length * 72);
  writeHeader(w, h);
  return w.finish();
}

function writeHeader(w: Writer, h: EntryHeader): void {
  if (h.deps.length > MAX_DEPS) throw new Error('too many deps');
  w.u8(ENTRY_VERSION).u8(h.kind).bytes(h.workspace).bytes(h.author).u32(h.epoch)
    .u64(h.seq).u64(h.clock).u64(h.time).bytes(h.prevHash).u16(h.deps.length);
  for (const d of h.deps) w.bytes(d.author).u64(d.seq).bytes(d.hash);
  w.bytes(h.nonce);
}

/** Encodes header + ciphertext: the bytes the author signs. */
export function encodeUnsigned(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const w = new Writer(header.byteLength + 4 + ciphertext.byteLength + SIGNATURE_BYTES);
  w.bytes(header).u32(ciphertext.byteLength).bytes(ciphertext);
  return w.finish();
}

export function attachSignature(unsigned: Uint8Array, signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(unsigned.byteLength + SIGNATURE_BYTES);
  out.set(unsigned);
  out.set(signature, unsigned.byteLength);
  return out;
}

/** Decodes and structurally validates one entry. Throws DecodeError on anything malformed. */
export function decodeEntry(bytes: Uint8Array): Entry {
  if (bytes.byteLength > MAX_ENTRY_BYTES) throw new DecodeError('entry too large');
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== ENTRY_VERSION) throw new DecodeError(`unknown entry version ${version}`);
  const kind = r.u8();
  if (!KNOWN_KINDS.has(kind)) throw new DecodeError(`unknown entry kind ${kind}`);
  const workspace = r.bytes_(WORKSPACE_ID_BYTES);
  const author = r.bytes_(KEY_BYTES);
  const epoch = r.u32();
  const seq = r.u64();
  if (seq < 1) throw new DecodeError('seq must start at 1');
  const clock = r.u64();
  if (clock < 1) throw new DecodeError('clock must be positive');
  const time = r.u64();
  const prevHash = r.bytes_(HASH_BYTES);
  const depCount = r.u16();
  if (depCount > MAX_DEPS) throw new DecodeError('too many deps');
  const deps: Dep[] = new Array(depCount);
  for (let i = 0; i < depCount; i++) {
    const dAuthor = r.bytes_(KEY_BYTES);
    const dSeq = r.u64();
    if (dSeq < 1) throw new DecodeError('dep seq must be positive');
    deps[i] = { author: dAuthor, seq: dSeq, hash: r.bytes_(HASH_BYTES) };
  }
  const nonce = r.bytes_(NONCE_BYTES);
  const headerLength = r.offset;
  const ctLen = r.u32();
  const ciphertext = r.bytes_(ctLen);
  const signedLength = r.offset;
  const signature = r.bytes_(SIGNATURE_BYTES);
  r.end();
  return {
    kind: kind as EntryKind, workspace, author, epoch, seq, clock, time, prevHash, deps, nonce,
    ciphertext, signature, bytes, signedLength, headerLength,
  };
}

export function signedPart(e: Entry): Uint8Array {
  return e.bytes.subarray(0, e.signedLength);
}

export function headerPart(e: Entry): Uint8Array {
  return e.bytes.subarray(0, e.headerLength);
}

/** Where an entry's ciphertext lies, for bulk decryption. */
export interface CipherSpan {
  kind: number;
  epoch: number;
  /** Length of the header (the AEAD's associated data); the nonce is its last NONCE_BYTES. */
  headerLength: number;
  ciphertextStart: number;
  ciphertextLength: number;
}

// Fixed offsets of the header (writeHeader): the dep count sits after the prevHash.
const AT_EPOCH = 2 + WORKSPACE_ID_BYTES + KEY_BYTES;
const AT_DEP_COUNT = AT_EPOCH + 4 + 8 + 8 + 8 + HASH_BYTES;
const DEP_BYTES = KEY_BYTES + 8 + HASH_BYTES;

/**
 * Reads only what locates the ciphertext, without decoding (or allocating) the rest: the worker
 * thread opens whole batches this way. Undefined if the bytes cannot be an entry; a full
 * decodeEntry still checks every entry before it is used.
 */
export function cipherSpan(b: Uint8Array): CipherSpan | undefined {
  if (b.byteLength < AT_DEP_COUNT + 2 || b[0] !== ENTRY_VERSION) return undefined;
  const u32 = (at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  const deps = (b[AT_DEP_COUNT] << 8) | b[AT_DEP_COUNT + 1];
  const headerLength = AT_DEP_COUNT + 2 + deps * DEP_BYTES + NONCE_BYTES;
  if (b.byteLength < headerLength + 4) return undefined;
  const ciphertextLength = u32(headerLength);
  const ciphertextStart = headerLength + 4;
  if (ciphertextStart + ciphertextLength + SIGNATURE_BYTES !== b.byteLength) return undefined;
  return { kind: b[1], epoch: u32(AT_EPOCH), headerLength, ciphertextStart, ciphertextLength };
}
