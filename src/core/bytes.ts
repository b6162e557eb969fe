// Small byte helpers shared by every codec. Pure: no I/O.

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const HEX = /^(?:[0-9a-f]{2})*$/;

export function fromHex(s: string): Uint8Array {
  if (!HEX.test(s)) throw new Error('not a lowercase hex string');
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.byteLength - b.byteLength;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

export function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not a base64url string');
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
export const utf8 = {
  encode: (s: string): Uint8Array => utf8Encoder.encode(s),
  decode: (b: Uint8Array): string => utf8Decoder.decode(b),
};

/** Writes unsigned integers up to 2^53 as 8 big-endian bytes without BigInt (hot path). */
export function writeU64(view: DataView, offset: number, n: number): void {
  view.setUint32(offset, Math.floor(n / 0x1_0000_0000));
  view.setUint32(offset + 4, n >>> 0);
}

export function readU64(view: DataView, offset: number): number {
  const hi = view.getUint32(offset);
  if (hi > 0x1f_ffff) throw new Error('integer above 2^53');
  return hi * 0x1_0000_0000 + view.getUint32(offset + 4);
}

/** Cursor over a byte array that throws a clear error on any overrun: every network frame goes through it. */
export class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset = 0;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (n < 0 || this.offset + n > this.bytes.byteLength) throw new DecodeError('truncated');
  }
  u8(): number { this.need(1); return this.view.getUint8(this.offset++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.offset); this.offset += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.offset); this.offset += 4; return v; }
  u64(): number {
    this.need(8);
    let v: number;
    try { v = readU64(this.view, this.offset); } catch { throw new DecodeError('integer too large'); }
    this.offset += 8;
    return v;
  }
  bytes_(n: number): Uint8Array { this.need(n); const v = this.bytes.subarray(this.offset, this.offset + n); this.offset += n; return v; }
  get remaining(): number { return this.bytes.byteLength - this.offset; }
  end(): void { if (this.remaining !== 0) throw new DecodeError('trailing bytes'); }
}

/** Raised for any malformed input; callers treat it as "reject and report", never as a crash. */
export class DecodeError extends Error {
  constructor(message: string) { super(message); this.name = 'DecodeError'; }
}

/** Growable writer for frames and entries. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.length + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this { this.ensure(1); this.view.setUint8(this.length, v); this.length += 1; return this; }
  u16(v: number): this { this.ensure(2); this.view.setUint16(this.length, v); this.length += 2; return this; }
  u32(v: number): this { this.ensure(4); this.view.setUint32(this.length, v); this.length += 4; return this; }
  u64(v: number): this { this.ensure(8); writeU64(this.view, this.length, v); this.length += 8; return this; }
  bytes(b: Uint8Array): this { this.ensure(b.byteLength); this.buf.set(b, this.length); this.length += b.byteLength; return this; }
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}
