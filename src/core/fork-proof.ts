// Proof that an author forked its log: two entries it signed that cannot both belong to one chain.
// Either the same seq with different content, or an entry at seq s+1 whose prevHash is not the
// hash of the author's entry at s (so a different entry at s exists). Any replica can check a proof
// alone, so proofs travel between peers and every replica voids the author's entries from the fork
// point on: honest replicas converge even though they hold different versions. Pure.
import { DecodeError, equalBytes } from './bytes.ts';
import { decodeEntry, type Entry, signedPart } from './entry.ts';
import type { EntryCrypto } from './entry-crypto.ts';

export interface ForkProof {
  /** The earlier of the two (lower seq, or either when equal). */
  a: Entry;
  b: Entry;
  /** First seq that is no longer trustworthy. */
  seq: number;
}

/** A valid proof made of `x` and `y` (in any order), or the reason they are not one. */
export function checkForkProof(x: Entry, y: Entry, crypto: EntryCrypto): ForkProof | string {
  if (!equalBytes(x.author, y.author) || !equalBytes(x.workspace, y.workspace)) return 'entries of different authors or workspaces';
  const [a, b] = x.seq <= y.seq ? [x, y] : [y, x];
  if (a.seq === b.seq) {
    if (equalBytes(a.bytes, b.bytes)) return 'the same entry twice';
  } else if (b.seq === a.seq + 1) {
    if (equalBytes(b.prevHash, crypto.hash(a.bytes))) return 'the entries chain correctly';
  } else {
    return 'the entries are not adjacent';
  }
  if (!crypto.verify(a.signature, signedPart(a), a.author) || !crypto.verify(b.signature, signedPart(b), b.author)) return 'a signature does not verify';
  return { a, b, seq: a.seq };
}

/**
 * The proof an authenticated entry makes against what we hold of its author (our entry at the
 * same seq, or at the one before), if it makes one. `storedAt` reads our entry at a seq.
 */
export function findForkProof(theirs: Entry, storedAt: (author: Uint8Array, seq: number) => Uint8Array | undefined, crypto: EntryCrypto): ForkProof | undefined {
  for (const seq of [theirs.seq, theirs.seq - 1]) {
    const ours = seq >= 1 ? storedAt(theirs.author, seq) : undefined;
    if (!ours) continue;
    const p = checkForkProof(decodeEntry(ours), theirs, crypto);
    if (typeof p !== 'string') return p;
  }
  return undefined;
}

/**
 * Reads fork evidence a peer sent (a FORK frame): two entries are a proof (undefined when they are
 * not one), one entry is a hint to compare with what we hold. Throws DecodeError if malformed.
 */
export function readForkEvidence(entries: Uint8Array[], workspace: Uint8Array, crypto: EntryCrypto): { proof?: ForkProof; hint?: Entry } {
  const decoded = entries.map((b) => decodeEntry(b));
  if (decoded.some((e) => !equalBytes(e.workspace, workspace))) throw new DecodeError('fork evidence for another workspace');
  if (decoded.length !== 2) return { hint: decoded[0] };
  const p = checkForkProof(decoded[0], decoded[1], crypto);
  return typeof p === 'string' ? {} : { proof: p };
}
