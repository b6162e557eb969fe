// Reusable buffers for received chunk frames. Every chunk would otherwise be copied out of the
// transport into a fresh 256 KiB buffer, and at transfer speed that garbage costs the receiver as
// much CPU in the garbage collector as hashing the chunk does. A buffer goes back to the pool only
// once whoever received it is done with it (its chunk verified, stored and written), exactly once.
export class BufferPool {
  readonly size: number;
  private readonly keep: number;
  private readonly free: Uint8Array[] = [];
  private readonly mine = new WeakSet<ArrayBufferLike>();

  /** Buffers of `size` bytes; at most `keep` are kept for reuse. */
  constructor(size: number, keep: number) {
    this.size = size;
    this.keep = keep;
  }

  /** `n` bytes: from the pool when n fits a pooled buffer, else newly allocated. */
  take(n: number): Uint8Array {
    if (n > this.size) return new Uint8Array(n);
    let b = this.free.pop();
    if (!b) {
      b = new Uint8Array(this.size);
      this.mine.add(b.buffer);
    }
    return b.subarray(0, n);
  }

  /** Returns the buffer behind `view` if it came from this pool; anything else is left alone. */
  give(view: Uint8Array): void {
    if (this.mine.has(view.buffer) && this.free.length < this.keep) this.free.push(new Uint8Array(view.buffer));
  }
}
