// Causal positions of entries. For each entry we can ask which entries are in its causal past:
// its version vector is its author's previous vector merged with the vectors of its deps. Most
// entries name no deps (they follow their own chain), so vectors are stored only where deps
// change them: one snapshot per author per change, found by binary search. Pure.

/** Seq per author (hex) of an entry's causal past, excluding the entry's own author. */
export type Vector = ReadonlyMap<string, number>;

const EMPTY: Vector = new Map();

interface Snapshot { seq: number; vv: Vector }

export class CausalIndex {
  private readonly snaps = new Map<string, Snapshot[]>();
  private readonly heads = new Map<string, number>();

  /** The vector the next entry of `author` would have with these deps, without recording it. */
  compute(author: string, seq: number, deps: readonly { author: string; seq: number }[]): Vector {
    const prev = this.vectorOf(author, seq - 1);
    if (deps.length === 0) return prev;
    const vv = new Map(prev);
    for (const d of deps) {
      if (d.author === author) continue;
      if ((vv.get(d.author) ?? 0) < d.seq) vv.set(d.author, d.seq);
      for (const [a, s] of this.vectorOf(d.author, d.seq)) {
        if (a !== author && (vv.get(a) ?? 0) < s) vv.set(a, s);
      }
    }
    return vv;
  }

  /** Records the next entry of `author` (seqs must arrive in order per author); returns its vector. */
  add(author: string, seq: number, deps: readonly { author: string; seq: number }[]): Vector {
    const head = this.heads.get(author) ?? 0;
    if (seq !== head + 1) throw new Error(`causal index: ${author.slice(0, 8)}:${seq} after ${head}`);
    const vv = this.compute(author, seq, deps);
    this.heads.set(author, seq);
    if (vv !== this.vectorOf(author, seq - 1)) {
      let list = this.snaps.get(author);
      if (!list) { list = []; this.snaps.set(author, list); }
      list.push({ seq, vv });
    }
    return vv;
  }

  /** The causal past of (author, seq) as seqs of other authors. */
  vectorOf(author: string, seq: number): Vector {
    const list = this.snaps.get(author);
    if (!list || list.length === 0 || list[0].seq > seq) return EMPTY;
    let lo = 0, hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].seq <= seq) lo = mid; else hi = mid - 1;
    }
    return list[lo].vv;
  }

  /** True when entry (b, bSeq) is in the causal past of entry (a, aSeq), or is it. */
  precedes(b: string, bSeq: number, a: string, aSeq: number): boolean {
    if (a === b) return bSeq <= aSeq;
    return (this.vectorOf(a, aSeq).get(b) ?? 0) >= bSeq;
  }

  head(author: string): number { return this.heads.get(author) ?? 0; }

  /** Forgets `author`'s entries after `seq` (added, then not stored after all). */
  truncate(author: string, seq: number): void {
    if (seq > 0) this.heads.set(author, seq); else this.heads.delete(author);
    const list = this.snaps.get(author);
    if (!list) return;
    while (list.length > 0 && list[list.length - 1].seq > seq) list.pop();
    if (list.length === 0) this.snaps.delete(author);
  }
}
