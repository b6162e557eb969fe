// The worker thread behind entry-preparer.ts: hashes received entries and opens their ciphertext
// with the epoch keys it is given, writing into two buffers per batch (no allocation per entry).
// It decides nothing: the main thread still checks chains, signatures and verdicts, and uses these
// results only as precomputed answers.
import { parentPort } from 'node:worker_threads';
import { decodeEntry, EntryKind, HASH_BYTES } from '../core/entry.ts';
import { aeadOpenInto, hashInto } from './sodium.ts';
import { NOT_TRIED, NOT_OPENED, type PrepareRequest, type PrepareResult } from './entry-prepare-messages.ts';

const AEAD_TAG_BYTES = 16;

function prepare(req: PrepareRequest): PrepareResult {
  const data = Buffer.from(req.buf);
  const n = req.lens.length;
  const keys = new Map(req.keys);
  const hashesBuf = new ArrayBuffer(n * HASH_BYTES);
  const hashes = Buffer.from(hashesBuf);
  const offs = new Int32Array(n).fill(NOT_TRIED);
  const plainLens = new Uint32Array(n);
  const entries = [];
  let at = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const bytes = data.subarray(at, at + req.lens[i]);
    at += req.lens[i];
    hashInto(hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), bytes);
    let e;
    try { e = decodeEntry(bytes); } catch { entries.push(undefined); continue; } // the main thread reports it
    const usable = e.kind !== EntryKind.control && keys.has(e.epoch) && e.ciphertext.byteLength >= AEAD_TAG_BYTES;
    entries.push(usable ? e : undefined);
    if (usable) total += e.ciphertext.byteLength - AEAD_TAG_BYTES;
  }
  const plainBuf = new ArrayBuffer(total);
  const plain = Buffer.from(plainBuf);
  let out = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    if (!e) continue;
    const len = e.ciphertext.byteLength - AEAD_TAG_BYTES;
    const ok = aeadOpenInto(plain.subarray(out, out + len), e.ciphertext, e.bytes.subarray(0, e.headerLength), e.nonce, keys.get(e.epoch)!);
    offs[i] = ok ? out : NOT_OPENED;
    plainLens[i] = ok ? len : 0;
    if (ok) out += len;
  }
  return { id: req.id, hashes: hashesBuf, plain: plainBuf, offs, plainLens };
}

parentPort!.on('message', (req: PrepareRequest) => {
  const res = prepare(req);
  parentPort!.postMessage(res, [res.hashes, res.plain, res.offs.buffer as ArrayBuffer, res.plainLens.buffer as ArrayBuffer]);
});
