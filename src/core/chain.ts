// Checks a run of one author's entries against the head we already hold. Pure (crypto via a port).
//
// Bulk verification: each entry's prevHash commits to the whole previous entry (signature
// included), so one valid signature on the last entry of a contiguous run authenticates the whole
// run. We verify one signature per author per batch and only hash the rest; if that signature
// fails we fall back to checking each entry, and accept the longest valid prefix.
import { equalBytes } from './bytes.ts';
import { type Entry, signedPart, ZERO_HASH } from './entry.ts';
import type { EntryCrypto } from './entry-crypto.ts';

export interface ChainHead {
  seq: number;
  hash: Uint8Array;
}

export type ChainProblem = 'gap' | 'fork' | 'broken-chain' | 'bad-signature';

export interface ChainResult {
  /** Entries new to us, in seq order, authenticated. */
  accepted: Entry[];
  /** Hashes of the accepted entries, parallel to `accepted`. */
  hashes: Uint8Array[];
  /** Entries we already had (identical). */
  duplicates: number;
  /** First problem found; entries from that point on were not accepted. */
  problem?: { kind: ChainProblem; seq: number; entry: Entry };
}

/**
 * `entries` must all be from one author and in the order received. `head` is our current head for
 * that author (seq 0 = nothing). `storedHash(seq)` returns our hash of an entry we already hold,
 * to tell a harmless replay (same hash) from a fork (same seq, other content).
 */
export function checkChain(
  entries: Entry[],
  head: ChainHead,
  crypto: EntryCrypto,
  storedHash: (seq: number) => Uint8Array | undefined,
): ChainResult {
  const result: ChainResult = { accepted: [], hashes: [], duplicates: 0 };
  let expectSeq = head.seq + 1;
  let prev = head.seq === 0 ? ZERO_HASH : head.hash;
  const run: Entry[] = [];
  const runHashes: Uint8Array[] = [];
  let problem: ChainResult['problem'];
  for (const e of entries) {
    const h = crypto.hash(e.bytes);
    if (e.seq < expectSeq) {
      const ours = e.seq > head.seq ? runHashes[e.seq - head.seq - 1]
        : e.seq === head.seq ? head.hash : storedHash(e.seq);
      if (ours && equalBytes(ours, h)) { result.duplicates++; continue; }
      // Same seq, different content, properly signed by the author: a fork. Unsigned: a forgery.
      problem = { kind: crypto.verify(e.signature, signedPart(e), e.author) ? 'fork' : 'bad-signature', seq: e.seq, entry: e };
      break;
    }
    if (e.seq > expectSeq) { problem = { kind: 'gap', seq: e.seq, entry: e }; break; }
    if (!equalBytes(e.prevHash, prev)) { problem = { kind: 'broken-chain', seq: e.seq, entry: e }; break; }
    run.push(e);
    runHashes.push(h);
    prev = h;
    expectSeq++;
  }
  if (run.length === 0) { if (problem) result.problem = problem; return result; }
  const last = run[run.length - 1];
  if (crypto.verify(last.signature, signedPart(last), last.author)) {
    result.accepted = run;
    result.hashes = runHashes;
    if (problem) result.problem = problem;
    return result;
  }
  // The tail signature fails: find the valid prefix one by one.
  let i = 0;
  for (; i < run.length; i++) if (!crypto.verify(run[i].signature, signedPart(run[i]), run[i].author)) break;
  result.accepted = run.slice(0, i);
  result.hashes = runHashes.slice(0, i);
  result.problem = { kind: 'bad-signature', seq: run[i].seq, entry: run[i] };
  return result;
}
