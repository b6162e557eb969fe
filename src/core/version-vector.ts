// Version vectors: for each author, the seq and hash of the newest entry held. Pure.
import { toHex } from './bytes.ts';

export interface Head {
  author: Uint8Array;
  seq: number;
  hash: Uint8Array;
}

/** Keyed by author hex so lookups are cheap; values keep the raw key for encoding. */
export type VersionVector = Map<string, Head>;

export function vectorFrom(heads: Iterable<Head>): VersionVector {
  const v: VersionVector = new Map();
  for (const h of heads) v.set(toHex(h.author), h);
  return v;
}

export function seqOf(v: VersionVector, authorHex: string): number {
  return v.get(authorHex)?.seq ?? 0;
}

/** Authors where `local` is ahead of `remote`, with the first seq the remote lacks. */
export function missingRanges(local: VersionVector, remote: VersionVector): { author: Uint8Array; authorHex: string; fromSeq: number; toSeq: number }[] {
  const out = [];
  for (const [hex, head] of local) {
    const have = seqOf(remote, hex);
    if (head.seq > have) out.push({ author: head.author, authorHex: hex, fromSeq: have + 1, toSeq: head.seq });
  }
  return out;
}

/** True when `a` holds at least everything `b` holds. */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  for (const [hex, head] of b) if (seqOf(a, hex) < head.seq) return false;
  return true;
}
