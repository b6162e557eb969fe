// Sync protocol frames, version 1: the wire spec (docs/PROTOCOL.md says the same in prose).
// Every frame on a stream: u32 length (of type + body), u8 type, body.
import { DecodeError, Reader, utf8, Writer } from '../core/bytes.ts';
import { HASH_BYTES, KEY_BYTES, MAX_ENTRY_BYTES, WORKSPACE_ID_BYTES } from '../core/entry.ts';
import type { Head } from '../core/version-vector.ts';

export const SYNC_PROTOCOL = '/trellis/sync/1.0.0';
export const JOIN_PROTOCOL = '/trellis/join/1.0.0';
/** Version 2 adds ENTRIES_PACKED, version 3 SIGNAL; a session runs at the lower of the two sides' versions. */
export const PROTOCOL_VERSION = 3;
/** The first version with SIGNAL frames (call signalling). */
export const SIGNAL_VERSION = 3;
export const MIN_PROTOCOL_VERSION = 1;
/** Largest frame accepted; a bigger length prefix closes the stream. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Batch limits: entries and bytes per ENTRIES frame. */
export const BATCH_ENTRIES = 1000;
export const BATCH_BYTES = 1024 * 1024;
export const MAX_VECTOR_HEADS = 100_000;
const MAX_PEERS = 256;
const MAX_ADDRS = 32;
const MAX_TEXT = 64 * 1024;

export const FrameType = {
  hello: 1,
  vector: 2,
  entries: 3,
  synced: 4,
  peers: 5,
  error: 6,
  joinRequest: 7,
  joinAccept: 8,
  /** Ephemeral, not logged: a sealed presence announcement (opaque to the sync layer). */
  presence: 9,
  /** Evidence that an author forked its log: one entry (a hint: "I hold this at that seq") or two (a proof). */
  fork: 10,
  /** Version 2: ENTRIES as runs of one author, without what the receiver recomputes (core/entry-pack.ts). */
  entriesPacked: 11,
  /** Version 3, ephemeral, not logged: a sealed call signal for one peer (workspace/call-signal.ts). */
  signal: 12,
} as const;

/** Largest presence blob accepted. */
export const MAX_PRESENCE_BYTES = 2048;
/** Largest call signal blob accepted (a WebRTC offer with audio and video is a few KiB of SDP). */
export const MAX_SIGNAL_BYTES = 32 * 1024;

export interface PeerAddrs { key: Uint8Array; addrs: string[] }

export type Frame =
  | { type: typeof FrameType.hello; version: number; workspace: Uint8Array }
  | { type: typeof FrameType.vector; heads: Head[] }
  | { type: typeof FrameType.entries; entries: Uint8Array[] }
  | { type: typeof FrameType.synced }
  | { type: typeof FrameType.peers; peers: PeerAddrs[] }
  | { type: typeof FrameType.error; code: string; message: string }
  /** Join messages carry JSON objects; the join module validates their fields. */
  | { type: typeof FrameType.joinRequest; body: unknown }
  | { type: typeof FrameType.joinAccept; body: unknown }
  | { type: typeof FrameType.presence; blob: Uint8Array }
  | { type: typeof FrameType.signal; blob: Uint8Array }
  | { type: typeof FrameType.fork; entries: Uint8Array[] }
  /** Checked when unpacked (core/entry-pack.ts), which may happen on the worker thread. */
  | { type: typeof FrameType.entriesPacked; packed: Uint8Array };

function str(w: Writer, s: string): void {
  const b = utf8.encode(s);
  if (b.byteLength > 0xffff) throw new Error('string too long for a frame');
  w.u16(b.byteLength).bytes(b);
}

function readStr(r: Reader, max = MAX_TEXT): string {
  const n = r.u16();
  if (n > max) throw new DecodeError('string too long');
  try { return utf8.decode(r.bytes_(n)); } catch (e) { if (e instanceof DecodeError) throw e; throw new DecodeError('invalid UTF-8'); }
}

/** Encodes a frame with its length prefix. */
export function encodeFrame(f: Frame): Uint8Array {
  // The bulk of a catch-up: one allocation and one copy, not a growing writer.
  if (f.type === FrameType.entriesPacked) {
    if (f.packed.byteLength + 1 > MAX_FRAME_BYTES) throw new Error('frame too large');
    const out = new Uint8Array(5 + f.packed.byteLength);
    new DataView(out.buffer).setUint32(0, 1 + f.packed.byteLength);
    out[4] = f.type;
    out.set(f.packed, 5);
    return out;
  }
  const w = new Writer(64);
  w.u32(0).u8(f.type);
  switch (f.type) {
    case FrameType.hello: w.u8(f.version).bytes(f.workspace); break;
    case FrameType.vector:
      w.u32(f.heads.length);
      for (const h of f.heads) w.bytes(h.author).u64(h.seq).bytes(h.hash);
      break;
    case FrameType.entries:
      w.u32(f.entries.length);
      for (const e of f.entries) w.u32(e.byteLength).bytes(e);
      break;
    case FrameType.synced: break;
    case FrameType.peers:
      w.u16(f.peers.length);
      for (const p of f.peers) {
        w.bytes(p.key).u8(p.addrs.length);
        for (const a of p.addrs) str(w, a);
      }
      break;
    case FrameType.error: str(w, f.code); str(w, f.message); break;
    case FrameType.joinRequest:
    case FrameType.joinAccept: {
      const b = utf8.encode(JSON.stringify(f.body));
      w.u32(b.byteLength).bytes(b);
      break;
    }
    case FrameType.presence: w.u16(f.blob.byteLength).bytes(f.blob); break;
    case FrameType.signal: w.u32(f.blob.byteLength).bytes(f.blob); break;
    case FrameType.fork:
      w.u8(f.entries.length);
      for (const e of f.entries) w.u32(e.byteLength).bytes(e);
      break;
  }
  const out = w.finish();
  if (out.byteLength - 4 > MAX_FRAME_BYTES) throw new Error('frame too large');
  new DataView(out.buffer).setUint32(0, out.byteLength - 4);
  return out;
}

/** Decodes one frame body (type + payload, without the length prefix). Throws DecodeError. */
export function decodeFrame(body: Uint8Array): Frame {
  const r = new Reader(body);
  const type = r.u8();
  let f: Frame;
  switch (type) {
    case FrameType.hello: f = { type, version: r.u8(), workspace: r.bytes_(WORKSPACE_ID_BYTES) }; break;
    case FrameType.vector: {
      const n = r.u32();
      if (n > MAX_VECTOR_HEADS) throw new DecodeError('vector too long');
      r.need(n * (KEY_BYTES + 8 + HASH_BYTES));
      const heads: Head[] = new Array(n);
      for (let i = 0; i < n; i++) heads[i] = { author: r.bytes_(KEY_BYTES), seq: r.u64(), hash: r.bytes_(HASH_BYTES) };
      f = { type, heads };
      break;
    }
    case FrameType.entries: {
      const n = r.u32();
      if (n > BATCH_ENTRIES * 4) throw new DecodeError('too many entries in one frame');
      const entries: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const len = r.u32();
        if (len > MAX_ENTRY_BYTES) throw new DecodeError('entry too large');
        entries[i] = r.bytes_(len);
      }
      f = { type, entries };
      break;
    }
    case FrameType.synced: f = { type }; break;
    case FrameType.peers: {
      const n = r.u16();
      if (n > MAX_PEERS) throw new DecodeError('too many peers');
      const peers: PeerAddrs[] = [];
      for (let i = 0; i < n; i++) {
        const key = r.bytes_(KEY_BYTES);
        const m = r.u8();
        if (m > MAX_ADDRS) throw new DecodeError('too many addresses');
        const addrs: string[] = [];
        for (let j = 0; j < m; j++) addrs.push(readStr(r, 1024));
        peers.push({ key, addrs });
      }
      f = { type, peers };
      break;
    }
    case FrameType.error: f = { type, code: readStr(r, 64), message: readStr(r, 1024) }; break;
    case FrameType.joinRequest:
    case FrameType.joinAccept: {
      const n = r.u32();
      if (n > MAX_TEXT) throw new DecodeError('join message too large');
      let body: unknown;
      try { body = JSON.parse(utf8.decode(r.bytes_(n))); } catch (e) { if (e instanceof DecodeError) throw e; throw new DecodeError('join message is not JSON'); }
      f = { type, body };
      break;
    }
    case FrameType.presence: {
      const n = r.u16();
      if (n > MAX_PRESENCE_BYTES) throw new DecodeError('presence too large');
      f = { type, blob: r.bytes_(n) };
      break;
    }
    case FrameType.signal: {
      const n = r.u32();
      if (n > MAX_SIGNAL_BYTES) throw new DecodeError('call signal too large');
      f = { type, blob: r.bytes_(n) };
      break;
    }
    case FrameType.fork: {
      const n = r.u8();
      if (n < 1 || n > 2) throw new DecodeError('a fork frame carries one or two entries');
      const entries: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const len = r.u32();
        if (len > MAX_ENTRY_BYTES) throw new DecodeError('entry too large');
        entries.push(r.bytes_(len));
      }
      f = { type, entries };
      break;
    }
    case FrameType.entriesPacked: f = { type, packed: r.bytes_(r.remaining) }; break;
    default: throw new DecodeError(`unknown frame type ${type}`);
  }
  r.end();
  return f;
}
