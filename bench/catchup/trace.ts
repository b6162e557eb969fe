// The workload: an editing trace turned into one Yjs (v1) update per edit, as an editor would
// emit them, plus a compact file format so that child processes get the very same bytes.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';

/** Read in place, never copied into the repository (its README asks for that). */
export const TRACE_PATH = '/work/shared/data/traces/automerge-paper.json.gz';
export const TRACE_EDITS = 259_778;

const CLIENT_ID = 0x9e3779b9;

type Patch = [pos: number, del: number, ins: string];
interface Trace {
  startContent: string;
  endContent: string;
  txns: { patches: Patch[] }[];
}

export interface Workload {
  updates: Uint8Array[];
  /** The text after the edits used (endContent when the whole trace is used). */
  expected: string;
  /** Total size of the updates, bytes. */
  updateBytes: number;
}

function loadTrace(path: string): Trace {
  const t = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Trace;
  if (typeof t.endContent !== 'string' || !Array.isArray(t.txns)) throw new Error(`${path}: not an editing trace`);
  return t;
}

/**
 * Replays the first `limit` edits (all by default) on a Y.Text, one transaction per edit, and
 * captures the update each transaction emits. Throws if the result differs from the trace's text.
 */
export function buildWorkload(path = TRACE_PATH, limit = Infinity): Workload {
  const trace = loadTrace(path);
  if (trace.startContent !== '') throw new Error('traces with a start content are not supported');
  const doc = new Y.Doc();
  // Yjs picks a random 32-bit client id, and its varint length (1 to 5 bytes) is in every update:
  // a fixed one keeps the workload byte-identical from run to run. This one takes 5 bytes, as
  // 15 random ids in 16 do.
  doc.clientID = CLIENT_ID;
  const text = doc.getText('text');
  const updates: Uint8Array[] = [];
  let updateBytes = 0;
  doc.on('update', (u: Uint8Array) => { updates.push(u); updateBytes += u.byteLength; });
  // A plain string replays the same edits, so a shortened run (--edits) still has a reference.
  let plain = '';
  const full = limit >= Infinity;
  outer: for (const txn of trace.txns) {
    for (const [pos, del, ins] of txn.patches) {
      if (updates.length >= limit) break outer;
      // One transaction per edit: one update per edit, as the acceptance asks.
      doc.transact(() => {
        if (del > 0) text.delete(pos, del);
        if (ins.length > 0) text.insert(pos, ins);
      });
      if (!full) plain = plain.slice(0, pos) + ins + plain.slice(pos + del);
    }
  }
  const expected = full ? trace.endContent : plain;
  if (text.toString() !== expected) throw new Error('replaying the trace on Yjs does not give its end content');
  doc.destroy();
  return { updates, expected, updateBytes };
}

/** Writes updates as u32 count, then (u32 length, bytes) each, big-endian. */
export function writeUpdates(path: string, updates: Uint8Array[]): void {
  let n = 4;
  for (const u of updates) n += 4 + u.byteLength;
  const out = Buffer.alloc(n);
  let o = out.writeUInt32BE(updates.length, 0);
  for (const u of updates) {
    o = out.writeUInt32BE(u.byteLength, o);
    out.set(u, o);
    o += u.byteLength;
  }
  writeFileSync(path, out);
}

/** Reads what writeUpdates wrote; the updates are views into one buffer (no per-update copies). */
export function readUpdates(path: string): Uint8Array[] {
  const b = readFileSync(path);
  const count = b.readUInt32BE(0);
  const updates: Uint8Array[] = new Array(count);
  let o = 4;
  for (let i = 0; i < count; i++) {
    const len = b.readUInt32BE(o);
    o += 4;
    updates[i] = new Uint8Array(b.buffer, b.byteOffset + o, len);
    o += len;
  }
  if (o !== b.byteLength) throw new Error(`${path}: trailing bytes`);
  return updates;
}
