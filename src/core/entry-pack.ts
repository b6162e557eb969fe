// Packed entries (sync protocol version 2, docs/PROTOCOL.md §2, ENTRIES_PACKED): a batch sent as
// runs of consecutive entries of one author, where every entry after a run's first leaves out
// what the receiver recomputes from the entry before it: version, workspace, author, seq (+1),
// prevHash (the previous entry's hash) and usually the epoch, with clock and time as deltas.
// About 40% fewer bytes for a catch-up of small edits. Unpacking rebuilds the exact entry bytes
// the author signed, so the receiver checks them as any other: a sender that packs something
// else than a true chain produces entries whose signature or chain check fails. Pure: the hash
// comes in through a port.
import { DecodeError, Reader, Writer } from './bytes.ts';
import { ENTRY_VERSION, HASH_BYTES, KEY_BYTES, MAX_ENTRY_BYTES, WORKSPACE_ID_BYTES } from './entry.ts';

// Offsets in an entry's encoding (entry.ts, writeHeader): fixed up to the dep count.
const AT_KIND = 1;
const AT_WORKSPACE = 2;
const AT_AUTHOR = AT_WORKSPACE + WORKSPACE_ID_BYTES;
const AT_EPOCH = AT_AUTHOR + KEY_BYTES;
const AT_SEQ = AT_EPOCH + 4;
const AT_CLOCK = AT_SEQ + 8;
const AT_TIME = AT_CLOCK + 8;
const AT_PREV = AT_TIME + 8;
/** Where the dep count starts: the rest of the entry (deps, nonce, ciphertext, signature) is sent as is. */
const AT_TAIL = AT_PREV + HASH_BYTES;

const FLAG_EPOCH = 1;
/** Entries in one packed frame, as for ENTRIES. */
export const MAX_PACKED_ENTRIES = 4000;

/** Hashes `message` into `out` (32 bytes). */
export type HashInto = (out: Uint8Array, message: Uint8Array) => void;

export interface UnpackedBatch {
  /** The rebuilt entries, views into one buffer. */
  entries: Uint8Array[];
  /** Hash of each entry, 32 bytes each, in order (unpacking computes them anyway). */
  hashes: Uint8Array;
}

const u32At = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** A big-endian u64 at `at`, or -1 above 2^53 (read by hand: a DataView per call made packing slow). */
function u64At(b: Uint8Array, at: number): number {
  const hi = u32At(b, at);
  if (hi > 0x1fffff) return -1;
  return hi * 0x1_0000_0000 + u32At(b, at + 4);
}

function putU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, Math.floor(n / 0x1_0000_0000));
  v.setUint32(at + 4, n >>> 0);
}

function sameBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

function writeVarint(w: Writer, n: number): void {
  while (n >= 0x80) { w.u8((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  w.u8(n);
}

function readVarint(r: Reader): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    const b = r.u8();
    n += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (n > Number.MAX_SAFE_INTEGER) throw new DecodeError('integer too large');
      return n;
    }
    scale *= 0x80;
  }
  throw new DecodeError('varint too long');
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

/**
 * Packs a batch. Consecutive entries join a run when they have the same workspace and author,
 * the next seq and a clock that does not go back; anything else (including bytes too short to be
 * an entry) starts a new run and travels whole. The sender trusts its own store for the chain.
 */
export function packEntries(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > MAX_PACKED_ENTRIES) throw new Error('too many entries for one frame');
  const w = new Writer(1024 + entries.length * 180);
  const runs: { start: number; end: number }[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const p = i > 0 ? entries[i - 1] : undefined;
    const follows = p !== undefined && runs.length > 0 && e.byteLength > AT_TAIL && p.byteLength > AT_TAIL && e[0] === ENTRY_VERSION
      && sameBytes(e, AT_WORKSPACE, p, AT_WORKSPACE, WORKSPACE_ID_BYTES + KEY_BYTES)
      && u64At(e, AT_SEQ) === u64At(p, AT_SEQ) + 1 && u64At(p, AT_SEQ) >= 0
      && u64At(e, AT_CLOCK) >= u64At(p, AT_CLOCK) && u64At(p, AT_CLOCK) >= 0
      && u64At(e, AT_TIME) >= 0 && u64At(p, AT_TIME) >= 0;
    if (follows) runs[runs.length - 1].end = i + 1;
    else runs.push({ start: i, end: i + 1 });
  }
  w.u32(runs.length);
  for (const run of runs) {
    const first = entries[run.start];
    w.u32(first.byteLength).bytes(first).u32(run.end - run.start - 1);
    for (let i = run.start + 1; i < run.end; i++) {
      const e = entries[i];
      const p = entries[i - 1];
      const sameEpoch = sameBytes(e, AT_EPOCH, p, AT_EPOCH, 4);
      w.u8(e[AT_KIND]).u8(sameEpoch ? 0 : FLAG_EPOCH);
      if (!sameEpoch) w.bytes(e.subarray(AT_EPOCH, AT_EPOCH + 4));
      writeVarint(w, u64At(e, AT_CLOCK) - u64At(p, AT_CLOCK));
      writeVarint(w, zigzag(u64At(e, AT_TIME) - u64At(p, AT_TIME)));
      writeVarint(w, e.byteLength - AT_TAIL);
      w.bytes(e.subarray(AT_TAIL));
    }
  }
  return w.finish();
}

interface Follower { kind: number; epoch: Uint8Array | undefined; clockDelta: number; timeDelta: number; tail: Uint8Array }

/**
 * Rebuilds the entries of a packed batch, hashing each (the next one's prevHash). Throws
 * DecodeError on anything malformed; the entries it returns are checked like any others.
 */
export function unpackEntries(packed: Uint8Array, hashInto: HashInto): UnpackedBatch {
  // Pass 1: parse and size everything, so that the output is one allocation.
  const r = new Reader(packed);
  const runCount = r.u32();
  if (runCount > MAX_PACKED_ENTRIES) throw new DecodeError('too many runs in one frame');
  const runs: { first: Uint8Array; followers: Follower[] }[] = [];
  let count = 0;
  let total = 0;
  for (let i = 0; i < runCount; i++) {
    const len = r.u32();
    if (len > MAX_ENTRY_BYTES) throw new DecodeError('entry too large');
    const first = r.bytes_(len);
    const n = r.u32();
    count += 1 + n;
    if (count > MAX_PACKED_ENTRIES) throw new DecodeError('too many entries in one frame');
    if (n > 0 && (len <= AT_TAIL || first[0] !== ENTRY_VERSION)) throw new DecodeError('a packed run must start with a whole entry');
    total += len;
    const followers: Follower[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const kind = r.u8();
      const flags = r.u8();
      if ((flags & ~FLAG_EPOCH) !== 0) throw new DecodeError('unknown packed entry flags');
      const epoch = flags & FLAG_EPOCH ? r.bytes_(4) : undefined;
      const clockDelta = readVarint(r);
      const timeDelta = unzigzag(readVarint(r));
      const tailLen = readVarint(r);
      if (tailLen > MAX_ENTRY_BYTES - AT_TAIL) throw new DecodeError('entry too large');
      followers[j] = { kind, epoch, clockDelta, timeDelta, tail: r.bytes_(tailLen) };
      total += AT_TAIL + tailLen;
    }
    runs.push({ first, followers });
  }
  r.end();
  // Pass 2: write each entry, then hash it for the next one's prevHash.
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const hashes = new Uint8Array(count * HASH_BYTES);
  const entries: Uint8Array[] = new Array(count);
  let at = 0;
  let k = 0;
  for (const run of runs) {
    out.set(run.first, at);
    let prev = out.subarray(at, at + run.first.byteLength);
    at += run.first.byteLength;
    entries[k] = prev;
    hashInto(hashes.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES), prev);
    k++;
    let seq = run.followers.length > 0 ? u64At(prev, AT_SEQ) : 0;
    let clock = run.followers.length > 0 ? u64At(prev, AT_CLOCK) : 0;
    let time = run.followers.length > 0 ? u64At(prev, AT_TIME) : 0;
    if (seq < 0 || clock < 0 || time < 0) throw new DecodeError('integer too large');
    for (const f of run.followers) {
      const len = AT_TAIL + f.tail.byteLength;
      const e = out.subarray(at, at + len);
      e[0] = ENTRY_VERSION;
      e[AT_KIND] = f.kind;
      e.set(prev.subarray(AT_WORKSPACE, AT_EPOCH), AT_WORKSPACE); // workspace and author
      e.set(f.epoch ?? prev.subarray(AT_EPOCH, AT_EPOCH + 4), AT_EPOCH);
      seq += 1;
      clock += f.clockDelta;
      time += f.timeDelta;
      if (clock > Number.MAX_SAFE_INTEGER || time < 0 || time > Number.MAX_SAFE_INTEGER) throw new DecodeError('integer out of range');
      putU64(view, at + AT_SEQ, seq);
      putU64(view, at + AT_CLOCK, clock);
      putU64(view, at + AT_TIME, time);
      e.set(hashes.subarray((k - 1) * HASH_BYTES, k * HASH_BYTES), AT_PREV);
      e.set(f.tail, AT_TAIL);
      at += len;
      entries[k] = e;
      hashInto(hashes.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES), e);
      k++;
      prev = e;
    }
  }
  return { entries, hashes };
}
