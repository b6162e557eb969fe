// The worker thread behind entry-preparer.ts: rebuilds packed batches, hashes received entries and
// opens their ciphertext with the epoch keys it is given, writing into a few buffers per batch (no
// allocation per entry). It decides nothing: the main thread still checks chains, signatures and
// verdicts, and uses these results only as precomputed answers.
import { parentPort } from 'node:worker_threads';
import { DecodeError } from '../core/bytes.ts';
import { cipherSpan, type CipherSpan, EntryKind, HASH_BYTES, NONCE_BYTES } from '../core/entry.ts';
import { unpackEntries } from '../core/entry-pack.ts';
import { aeadOpenInto, hashInto } from './sodium.ts';
import { NOT_TRIED, NOT_OPENED, type PrepareDone, type PrepareRequest, type PrepareResult } from './entry-prepare-messages.ts';

const AEAD_TAG_BYTES = 16;

/** The batch's entries and their hashes: split and hashed here, or rebuilt (hashed on the way). */
function entriesOf(req: PrepareRequest): { entries: Uint8Array[]; hashes: Uint8Array; rebuilt?: { buf: ArrayBuffer; lens: Uint32Array } } {
  const data = Buffer.from(req.buf);
  if (req.packed) {
    const u = unpackEntries(data, hashInto);
    const lens = new Uint32Array(u.entries.length);
    for (let i = 0; i < lens.length; i++) lens[i] = u.entries[i].byteLength;
    const first = u.entries[0];
    return { entries: u.entries, hashes: u.hashes, rebuilt: { buf: first ? first.buffer as ArrayBuffer : new ArrayBuffer(0), lens } };
  }
  const n = req.lens.length;
  const hashes = new Uint8Array(n * HASH_BYTES);
  const entries: Uint8Array[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    entries[i] = data.subarray(at, at + req.lens[i]);
    at += req.lens[i];
    hashInto(hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), entries[i]);
  }
  return { entries, hashes };
}

function cpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

function prepare(req: PrepareRequest): PrepareDone {
  const started = cpuMs();
  const { entries, hashes, rebuilt } = entriesOf(req);
  const n = entries.length;
  const keys = new Map(req.keys);
  const offs = new Int32Array(n).fill(NOT_TRIED);
  const plainLens = new Uint32Array(n);
  const spans: (CipherSpan | undefined)[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const span = cipherSpan(entries[i]); // malformed: left to the main thread, which reports it
    if (!span || span.kind === EntryKind.control || !keys.has(span.epoch) || span.ciphertextLength < AEAD_TAG_BYTES) continue;
    spans[i] = span;
    total += span.ciphertextLength - AEAD_TAG_BYTES;
  }
  const plainBuf = new ArrayBuffer(total);
  const plain = Buffer.from(plainBuf);
  let out = 0;
  for (let i = 0; i < n; i++) {
    const span = spans[i];
    if (!span) continue;
    const e = entries[i];
    const len = span.ciphertextLength - AEAD_TAG_BYTES;
    const ciphertext = e.subarray(span.ciphertextStart, span.ciphertextStart + span.ciphertextLength);
    const nonce = e.subarray(span.headerLength - NONCE_BYTES, span.headerLength);
    const ok = aeadOpenInto(plain.subarray(out, out + len), ciphertext, e.subarray(0, span.headerLength), nonce, keys.get(span.epoch)!);
    offs[i] = ok ? out : NOT_OPENED;
    plainLens[i] = ok ? len : 0;
    if (ok) out += len;
  }
  // A copy only if the hashes share a buffer with something else (they never do today).
  const hashesBuf = hashes.byteOffset === 0 && hashes.byteLength === hashes.buffer.byteLength ? hashes.buffer as ArrayBuffer : hashes.slice().buffer;
  return { id: req.id, entries: rebuilt?.buf, lens: rebuilt?.lens, hashes: hashesBuf, plain: plainBuf, offs, plainLens, cpuMs: cpuMs() - started };
}

parentPort!.postMessage('ready');

parentPort!.on('message', (req: PrepareRequest) => {
  let res: PrepareResult;
  try {
    res = prepare(req);
  } catch (err) {
    // A malformed packed batch: the main thread closes the session as for any malformed frame.
    res = { id: req.id, error: err instanceof DecodeError ? err.message : `preparing failed: ${(err as Error).message}` };
    parentPort!.postMessage(res);
    return;
  }
  const transfer: ArrayBuffer[] = [res.hashes, res.plain, res.offs.buffer as ArrayBuffer, res.plainLens.buffer as ArrayBuffer];
  if (res.entries) transfer.push(res.entries, res.lens!.buffer as ArrayBuffer);
  parentPort!.postMessage(res, transfer);
});
