// Sealing of file chunks: each chunk of a file version is encrypted on its own with the version's
// random file key (XChaCha20-Poly1305 through the sodium facade), so chunks can be fetched,
// checked and decrypted independently, in any order, from any peer.
//
// Nonce: 16 zero bytes then the chunk index (u64). A file key encrypts exactly one file version
// (a new version gets a new key; a restore reuses the old ciphertexts, it does not re-encrypt), so
// (key, nonce) never repeats. Associated data binds the index and the chunk count, so a chunk can
// be neither moved to another position nor the file cut short without the open failing.
//
// Same primitive as sodium.ts's aeadSeal/aeadOpen, but called on libsodium directly so that a
// transfer can seal and open into buffers it reuses: at hundreds of MB/s, a fresh zero-filled
// 256 KiB buffer per chunk is measurable garbage-collection work and resident memory.
import { createHash } from 'node:crypto';
import sodium from 'sodium-native';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, randomBytes } from './sodium.ts';

export const FILE_KEY_BYTES = AEAD_KEY_BYTES;
/** What sealing adds to each chunk (the Poly1305 tag). */
export const CHUNK_OVERHEAD = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES; // 16
export const SHA256_BYTES = 32;

const LABEL = new TextEncoder().encode('trellis file chunk v1');

function nonceOf(index: number): Uint8Array {
  const n = new Uint8Array(AEAD_NONCE_BYTES);
  const v = new DataView(n.buffer);
  v.setUint32(16, Math.floor(index / 0x1_0000_0000));
  v.setUint32(20, index >>> 0);
  return n;
}

function adOf(index: number, count: number): Uint8Array {
  const ad = new Uint8Array(LABEL.byteLength + 16);
  ad.set(LABEL);
  const v = new DataView(ad.buffer);
  v.setUint32(LABEL.byteLength, Math.floor(index / 0x1_0000_0000));
  v.setUint32(LABEL.byteLength + 4, index >>> 0);
  v.setUint32(LABEL.byteLength + 8, Math.floor(count / 0x1_0000_0000));
  v.setUint32(LABEL.byteLength + 12, count >>> 0);
  return ad;
}

function checkPosition(index: number, count: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) {
    throw new Error('chunk index out of range');
  }
}

/** A fresh random key for one file version. */
export function newFileKey(): Uint8Array {
  return randomBytes(FILE_KEY_BYTES);
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Room to take `n` bytes from `out` (when given and large enough), else a new buffer. */
function target(n: number, out: Uint8Array | undefined): Buffer {
  return out !== undefined && out.byteLength >= n ? asBuffer(out).subarray(0, n) : Buffer.allocUnsafe(n);
}

/**
 * Encrypts chunk `index` of a file version of `count` chunks. The result is written into `out`
 * when it is large enough (plain + CHUNK_OVERHEAD), else into a new buffer; it must not overlap `plain`.
 */
export function sealChunk(plain: Uint8Array, key: Uint8Array, index: number, count: number, out?: Uint8Array): Uint8Array {
  if (key.byteLength !== FILE_KEY_BYTES) throw new Error('a file key is 32 bytes');
  checkPosition(index, count);
  const o = target(plain.byteLength + CHUNK_OVERHEAD, out);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(o, asBuffer(plain), asBuffer(adOf(index, count)), null, asBuffer(nonceOf(index)), asBuffer(key));
  return o;
}

/**
 * The plaintext, or null if the chunk was not sealed with this key at this position. Written into
 * `out` when it is large enough, else into a new buffer.
 */
export function openChunk(sealed: Uint8Array, key: Uint8Array, index: number, count: number, out?: Uint8Array): Uint8Array | null {
  if (key.byteLength !== FILE_KEY_BYTES || sealed.byteLength < CHUNK_OVERHEAD) return null;
  checkPosition(index, count);
  const o = target(sealed.byteLength - CHUNK_OVERHEAD, out);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(o, null, asBuffer(sealed), asBuffer(adOf(index, count)), asBuffer(nonceOf(index)), asBuffer(key));
  } catch {
    return null;
  }
  return o;
}

/** The keystream part of libsodium's XChaCha20-Poly1305 (present at run time; missing from its type package). */
const stream = sodium as unknown as {
  crypto_stream_xchacha20_xor_ic(c: Buffer, m: Buffer, n: Buffer, ic: number, k: Buffer): void;
};

/**
 * Decrypts chunk `index` without checking its Poly1305 tag: only for a sealed chunk whose SHA-256
 * was just checked against its file's manifest. The manifest entry, signed by its author, names
 * these exact bytes, which is a stronger check than the tag (any member holding the file key could
 * make a chunk with a valid tag; nobody can make another chunk with the same SHA-256), so the tag,
 * a quarter of the cost of opening, tells nothing more. XChaCha20-Poly1305 (IETF) encrypts the
 * message with the XChaCha20 keystream from block 1 on (block 0 keys Poly1305), which is what this
 * XORs off. The chunk's size must be its position's size: the caller knows it from the manifest.
 */
export function decryptVerifiedChunk(sealed: Uint8Array, key: Uint8Array, index: number, count: number, out?: Uint8Array): Uint8Array {
  if (key.byteLength !== FILE_KEY_BYTES) throw new Error('a file key is 32 bytes');
  if (sealed.byteLength < CHUNK_OVERHEAD) throw new Error('not a sealed chunk');
  checkPosition(index, count);
  const n = sealed.byteLength - CHUNK_OVERHEAD;
  const o = target(n, out);
  stream.crypto_stream_xchacha20_xor_ic(o, asBuffer(sealed).subarray(0, n), asBuffer(nonceOf(index)), 1, asBuffer(key));
  return o;
}

/**
 * SHA-256, the address of a sealed chunk. Node's OpenSSL uses the CPU's SHA instructions, several
 * times faster on 256 KiB chunks than libsodium's portable SHA-256, and chunks are hashed at
 * transfer speed on both ends.
 */
export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
