// The chunk transfer protocol, version 1: the wire spec (docs/PROTOCOL.md says the same in prose).
// Every frame on a stream: u32 length (of type + body), u8 type, body. One stream serves one
// workspace; the requester names it in HELLO, the server answers READY or ERROR; then the requester
// sends WANT frames and the server answers every hash of every WANT, in order, with exactly one
// CHUNK or MISSING.
//
// The push protocol (/trellis/chunks-push/1.0.0, members to relays) uses the same framing: HELLO,
// READY or ERROR, then HAVE and PUT frames, each answered in order by one HELD or STORED.
import { DecodeError, Reader, utf8, Writer } from '../../core/bytes.ts';
import { CHUNK_OVERHEAD, SHA256_BYTES } from '../../crypto/stream-seal.ts';

export const CHUNKS_PROTOCOL = '/trellis/chunks/1.0.0';
/** Members hand chunks to the relays of a workspace (relays accept it; peers do not). */
export const CHUNKS_PUSH_PROTOCOL = '/trellis/chunks-push/1.0.0';
export const CHUNKS_VERSION = 1;
export const WORKSPACE_BYTES = 16;
/** Largest plaintext chunk a manifest may declare (Trellis writes 256 KiB to 1 MiB chunks, by file size). */
export const MAX_CHUNK_SIZE = 1024 * 1024;
/** Largest sealed chunk on the wire. */
export const MAX_SEALED_CHUNK = MAX_CHUNK_SIZE + CHUNK_OVERHEAD;
/** Hashes per WANT (and HAVE) frame. */
export const MAX_WANT = 64;
/** Largest frame (type + body): a CHUNK of the largest sealed chunk. */
export const MAX_CHUNK_FRAME = 1 + SHA256_BYTES + MAX_SEALED_CHUNK;
const MAX_CODE = 64;
const MAX_MESSAGE = 1024;

export const ChunkFrameType = {
  hello: 1,
  ready: 2,
  want: 3,
  chunk: 4,
  missing: 5,
  error: 6,
  /** Push: which of these chunks do you hold for this workspace? */
  have: 7,
  /** Push: the answer to one HAVE, one flag per hash. */
  held: 8,
  /** Push: a sealed chunk to store (same layout as CHUNK). */
  put: 9,
  /** Push: the chunk is stored (durably) or was held already. */
  stored: 10,
} as const;

/** Why a server answers MISSING. */
export const MissingReason = {
  /** The server does not hold the chunk. */
  notHeld: 0,
  /** No file version of the named workspace lists the chunk (as far as the server knows). */
  notInWorkspace: 1,
} as const;
export type MissingReasonCode = typeof MissingReason[keyof typeof MissingReason];

export type ChunkFrame =
  | { type: typeof ChunkFrameType.hello; version: number; workspace: Uint8Array }
  | { type: typeof ChunkFrameType.ready }
  | { type: typeof ChunkFrameType.want; hashes: Uint8Array[] }
  | { type: typeof ChunkFrameType.chunk; hash: Uint8Array; data: Uint8Array }
  | { type: typeof ChunkFrameType.missing; hash: Uint8Array; reason: MissingReasonCode }
  | { type: typeof ChunkFrameType.error; code: string; message: string }
  | { type: typeof ChunkFrameType.have; hashes: Uint8Array[] }
  | { type: typeof ChunkFrameType.held; flags: boolean[] }
  | { type: typeof ChunkFrameType.put; hash: Uint8Array; data: Uint8Array }
  | { type: typeof ChunkFrameType.stored; hash: Uint8Array };

function putStr(w: Writer, s: string, max: number): void {
  let b = utf8.encode(s);
  // Cut rather than fail: an error frame must always be sendable.
  if (b.byteLength > max) b = utf8.encode(s.slice(0, max / 4));
  w.u16(b.byteLength).bytes(b);
}

function readStr(r: Reader, max: number): string {
  const n = r.u16();
  if (n > max) throw new DecodeError('string too long');
  try { return utf8.decode(r.bytes_(n)); } catch (e) { if (e instanceof DecodeError) throw e; throw new DecodeError('invalid UTF-8'); }
}

function withLength(w: Writer): Uint8Array {
  const out = w.finish();
  new DataView(out.buffer).setUint32(0, out.byteLength - 4);
  return out;
}

/** Encodes a frame with its length prefix. CHUNK frames are better built with chunkFrameHeader. */
export function encodeChunkFrame(f: ChunkFrame): Uint8Array {
  const w = new Writer(64);
  w.u32(0).u8(f.type);
  switch (f.type) {
    case ChunkFrameType.hello:
      if (f.workspace.byteLength !== WORKSPACE_BYTES) throw new Error('a workspace id is 16 bytes');
      w.u8(f.version).bytes(f.workspace);
      break;
    case ChunkFrameType.ready: break;
    case ChunkFrameType.want:
    case ChunkFrameType.have:
      if (f.hashes.length < 1 || f.hashes.length > MAX_WANT) throw new Error(`a WANT or HAVE carries 1 to ${MAX_WANT} hashes`);
      w.u16(f.hashes.length);
      for (const h of f.hashes) {
        if (h.byteLength !== SHA256_BYTES) throw new Error('a chunk hash is 32 bytes');
        w.bytes(h);
      }
      break;
    case ChunkFrameType.held:
      if (f.flags.length < 1 || f.flags.length > MAX_WANT) throw new Error(`a HELD carries 1 to ${MAX_WANT} flags`);
      w.u16(f.flags.length);
      for (const x of f.flags) w.u8(x ? 1 : 0);
      break;
    case ChunkFrameType.stored:
      if (f.hash.byteLength !== SHA256_BYTES) throw new Error('a chunk hash is 32 bytes');
      w.bytes(f.hash);
      break;
    case ChunkFrameType.chunk:
    case ChunkFrameType.put:
      if (f.hash.byteLength !== SHA256_BYTES) throw new Error('a chunk hash is 32 bytes');
      if (f.data.byteLength < 1 || f.data.byteLength > MAX_SEALED_CHUNK) throw new Error('chunk size out of range');
      w.bytes(f.hash).bytes(f.data);
      break;
    case ChunkFrameType.missing:
      if (f.hash.byteLength !== SHA256_BYTES) throw new Error('a chunk hash is 32 bytes');
      w.bytes(f.hash).u8(f.reason);
      break;
    case ChunkFrameType.error:
      putStr(w, f.code, MAX_CODE);
      putStr(w, f.message, MAX_MESSAGE);
      break;
  }
  return withLength(w);
}

/** Bytes before the data of a CHUNK frame: length, type, hash. */
export const CHUNK_HEADER_BYTES = 4 + 1 + SHA256_BYTES;

/**
 * Fills in the header of a CHUNK (or PUT) frame whose data already sits at offset
 * CHUNK_HEADER_BYTES of `frame`, so a chunk read from disk goes to the wire without another copy.
 */
export function fillChunkHeader(frame: Uint8Array, hash: Uint8Array, type: typeof ChunkFrameType.chunk | typeof ChunkFrameType.put = ChunkFrameType.chunk): Uint8Array {
  const dataBytes = frame.byteLength - CHUNK_HEADER_BYTES;
  if (dataBytes < 1 || dataBytes > MAX_SEALED_CHUNK) throw new Error('chunk size out of range');
  if (hash.byteLength !== SHA256_BYTES) throw new Error('a chunk hash is 32 bytes');
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  v.setUint32(0, frame.byteLength - 4);
  v.setUint8(4, type);
  frame.set(hash, 5);
  return frame;
}

/** Decodes one frame body (type + payload, without the length prefix). Throws DecodeError. */
export function decodeChunkFrame(body: Uint8Array): ChunkFrame {
  const r = new Reader(body);
  const type = r.u8();
  let f: ChunkFrame;
  switch (type) {
    case ChunkFrameType.hello: f = { type, version: r.u8(), workspace: r.bytes_(WORKSPACE_BYTES) }; break;
    case ChunkFrameType.ready: f = { type }; break;
    case ChunkFrameType.want:
    case ChunkFrameType.have: {
      const n = r.u16();
      if (n < 1 || n > MAX_WANT) throw new DecodeError(`a ${type === ChunkFrameType.want ? 'WANT' : 'HAVE'} must carry 1 to ${MAX_WANT} hashes`);
      r.need(n * SHA256_BYTES);
      const hashes: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) hashes[i] = r.bytes_(SHA256_BYTES);
      f = { type, hashes };
      break;
    }
    case ChunkFrameType.held: {
      const n = r.u16();
      if (n < 1 || n > MAX_WANT) throw new DecodeError(`a HELD must carry 1 to ${MAX_WANT} flags`);
      const flags: boolean[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const x = r.u8();
        if (x > 1) throw new DecodeError(`a HELD flag is 0 or 1, not ${x}`);
        flags[i] = x === 1;
      }
      f = { type, flags };
      break;
    }
    case ChunkFrameType.stored: f = { type, hash: r.bytes_(SHA256_BYTES) }; break;
    case ChunkFrameType.chunk:
    case ChunkFrameType.put: {
      const hash = r.bytes_(SHA256_BYTES);
      const n = r.remaining;
      if (n < 1) throw new DecodeError('empty chunk');
      if (n > MAX_SEALED_CHUNK) throw new DecodeError('chunk too large');
      f = { type, hash, data: r.bytes_(n) };
      break;
    }
    case ChunkFrameType.missing: {
      const hash = r.bytes_(SHA256_BYTES);
      const reason = r.u8();
      if (reason !== MissingReason.notHeld && reason !== MissingReason.notInWorkspace) throw new DecodeError(`unknown MISSING reason ${reason}`);
      f = { type, hash, reason };
      break;
    }
    case ChunkFrameType.error: f = { type, code: readStr(r, MAX_CODE), message: readStr(r, MAX_MESSAGE) }; break;
    default: throw new DecodeError(`unknown frame type ${type}`);
  }
  r.end();
  return f;
}
