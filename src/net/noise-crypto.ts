// The ChaCha20-Poly1305 of our Noise channels, done by libsodium (sodium-native) instead of
// @chainsafe/libp2p-noise's default (Node's createCipheriv). Same cipher and wire format, so peers
// using the stock implementation interoperate; what changes is the work per 64 KiB message:
// - the default builds a cipher object and a key object per message, and allocates twice when
//   encrypting (update(), then concatenation with the tag) and once or twice when decrypting;
// - here, encryption copies the message's parts (yamux hands over header and payload apart) into
//   one new buffer and encrypts it there; decryption happens in the bytes Noise passes as `dst`,
//   which hold the ciphertext already (a view of the received bytes, or Noise's own contiguous copy
//   of them when a message spans socket reads), so nothing is allocated. That `dst` holds the
//   ciphertext is checked, not assumed (a compare, much cheaper than a copy).
// ChaCha20 XORs byte by byte, so in-place is safe; libsodium checks the tag first and, on failure,
// zeroes the output rather than leave any plaintext. At transfer speed those buffers were most of
// the garbage the peer made (see daemon/gc-tuning.ts). Handshake messages are small and rare.
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import sodium from 'sodium-native';

/** The IETF ChaCha20-Poly1305 of sodium-native (present at run time; missing from its type package). */
interface IetfAead {
  crypto_aead_chacha20poly1305_ietf_ABYTES: number;
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(c: Buffer, mac: Buffer, m: Buffer, ad: Buffer | null, nsec: null, npub: Buffer, k: Buffer): number;
  crypto_aead_chacha20poly1305_ietf_decrypt_detached(m: Buffer, nsec: null, c: Buffer, mac: Buffer, ad: Buffer | null, npub: Buffer, k: Buffer): void;
}
const aead = sodium as unknown as IetfAead;
const TAG_BYTES = aead.crypto_aead_chacha20poly1305_ietf_ABYTES;

/** One buffer or a list of them (Uint8ArrayList), as Noise passes them. */
type Bytes = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0];

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** The parts of `u`, without copying. */
function partsOf(u: Bytes): Iterable<Uint8Array> {
  return u instanceof Uint8Array ? [u] : u;
}

/**
 * Buffers whose sender wants to know when every byte of them has been encrypted (copied into a
 * Noise message), after which nothing refers to them any more and they may be reused: see
 * whenEncrypted. Keyed by the ArrayBuffer, so the views the muxer makes of them count too.
 */
const watched = new WeakMap<ArrayBufferLike, { left: number; release: () => void }>();

/**
 * Calls `release` once `bytes.byteLength` bytes of `bytes`'s ArrayBuffer have been encrypted, that
 * is once all of `bytes`, sent on a stream of a connection using this cipher, has been copied into
 * Noise messages. The muxer passes views of what it was given down to here, so they are seen; a
 * part that some layer copied first is not, and then `release` is never called (the buffer is then
 * simply not reused). Nothing else of that ArrayBuffer may be sent meanwhile.
 */
export function whenEncrypted(bytes: Uint8Array, release: () => void): void {
  // A buffer watched already (its earlier bytes not all sent): never released, so never reused.
  if (watched.has(bytes.buffer)) { watched.delete(bytes.buffer); return; }
  watched.set(bytes.buffer, { left: bytes.byteLength, release });
}

/** Copies the first `n` bytes of `from` into `to`, and counts the parts of watched buffers. */
function copyInto(to: Buffer, from: Bytes, n: number): void {
  let at = 0;
  for (const part of partsOf(from)) {
    if (at >= n) break;
    const take = Math.min(part.byteLength, n - at);
    to.set(take === part.byteLength ? part : part.subarray(0, take), at);
    at += take;
    const w = watched.get(part.buffer);
    if (w !== undefined) {
      w.left -= take;
      if (w.left <= 0) { watched.delete(part.buffer); w.release(); }
    }
  }
}

/** Do the first `n` bytes of `u` equal `b`? */
function sameBytes(u: Bytes, b: Uint8Array, n: number): boolean {
  let at = 0;
  for (const part of partsOf(u)) {
    if (at >= n) break;
    const take = Math.min(part.byteLength, n - at);
    if (Buffer.compare(asBuffer(part).subarray(0, take), asBuffer(b).subarray(at, at + take)) !== 0) return false;
    at += take;
  }
  return at === n;
}

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    const n = plaintext.byteLength;
    const out = Buffer.allocUnsafe(n + TAG_BYTES);
    copyInto(out, plaintext, n);
    const body = out.subarray(0, n);
    aead.crypto_aead_chacha20poly1305_ietf_encrypt_detached(body, out.subarray(n), body, asBuffer(ad), null, asBuffer(nonce), asBuffer(k));
    return out;
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < TAG_BYTES) throw new Error('Invalid chacha20poly1305 decryption');
    const n = ciphertext.byteLength - TAG_BYTES;
    const tag = Buffer.from(ciphertext.subarray(n));
    let body: Buffer;
    if (dst !== undefined && dst.byteLength === n && (isSameRegion(ciphertext, dst) || sameBytes(ciphertext, dst, n))) {
      body = asBuffer(dst);
    } else {
      body = Buffer.allocUnsafe(n);
      copyInto(body, ciphertext, n);
    }
    try {
      aead.crypto_aead_chacha20poly1305_ietf_decrypt_detached(body, null, body, tag, asBuffer(ad), asBuffer(nonce), asBuffer(k));
    } catch {
      throw new Error('Invalid chacha20poly1305 decryption');
    }
    return body;
  },
};

/** Is `dst` exactly the start of the single buffer `u` (the in-place case)? */
function isSameRegion(u: Bytes, dst: Uint8Array): boolean {
  return u instanceof Uint8Array && u.buffer === dst.buffer && u.byteOffset === dst.byteOffset;
}
