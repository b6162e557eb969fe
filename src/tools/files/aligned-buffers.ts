// Page-aligned buffers, for writes that bypass the page cache (O_DIRECT), which need the memory,
// the file offset and the length all aligned to the device's block size. Node offers no way to ask
// for an aligned Buffer, but V8 places every WebAssembly memory at a page boundary: a slab of slots
// inside one such memory, each a multiple of 64 KiB from its start, is aligned for any block size
// up to 64 KiB. Slabs are never grown (growing would detach the views handed out).
const WASM_PAGE = 65536;
/** Slots per slab: enough for the writes a get has in flight at once. */
const SLOTS_PER_SLAB = 8;

export const DIRECT_ALIGN = 4096;

// The one piece of the WebAssembly API used here (the project's type libraries do not declare it).
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer } };

/** `n` rounded up to a multiple of DIRECT_ALIGN. */
export function alignUp(n: number): number {
  return Math.ceil(n / DIRECT_ALIGN) * DIRECT_ALIGN;
}

export class AlignedBuffers {
  /** Bytes in each buffer, a multiple of 64 KiB. */
  readonly slotBytes: number;
  private readonly keep: number;
  private readonly free: Buffer[] = [];
  private readonly mine = new WeakSet<ArrayBufferLike>();

  /** Buffers of at least `bytes` bytes; at most `keep` are kept for reuse. */
  constructor(bytes: number, keep = SLOTS_PER_SLAB) {
    this.slotBytes = Math.max(1, Math.ceil(bytes / WASM_PAGE)) * WASM_PAGE;
    this.keep = keep;
  }

  take(): Buffer {
    let b = this.free.pop();
    if (b === undefined) {
      const memory = new WebAssembly.Memory({ initial: (this.slotBytes / WASM_PAGE) * SLOTS_PER_SLAB });
      this.mine.add(memory.buffer);
      for (let i = 1; i < SLOTS_PER_SLAB; i++) this.free.push(Buffer.from(memory.buffer, i * this.slotBytes, this.slotBytes));
      b = Buffer.from(memory.buffer, 0, this.slotBytes);
    }
    return b;
  }

  /** Takes back a buffer that came from take(), once nothing refers to it any more. */
  give(b: Buffer): void {
    if (this.mine.has(b.buffer) && b.byteLength === this.slotBytes && this.free.length < this.keep) this.free.push(b);
  }
}
