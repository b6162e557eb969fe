// The ChaCha20-Poly1305 of our Noise channels, done by libsodium (sodium-native) instead of
// @chainsafe/libp2p-noise's default (Node's createCipheriv). Same cipher and wire format, so peers
// using the stock implementation interoperate; what changes is the work per 64 KiB message:
// - the default builds a cipher object and a key object per message, and allocates twice when
//   encrypting (update(), then concatenation with the tag) and once when decrypting;
// - here, encryption writes ciphertext and tag into one new buffer, and decryption happens in
//   place in the received bytes (Noise hands us their region as `dst`; the ChaCha20 keystream is
//   XORed byte by byte, so in-place is safe; libsodium checks the tag first and, on failure, zeroes
//   the output rather than leave any plaintext).
// At transfer speed those buffers were most of the garbage the peer made: each 64 MB of external
// memory costs a major GC (see daemon/v8-tuning.ts). Handshake messages come as lists of buffers:
// they are joined first (a few hundred bytes, rare).
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import sodium from 'sodium-native';

/** The IETF ChaCha20-Poly1305 of sodium-native (present at run time; missing from its type package). */
interface IetfAead {
  crypto_aead_chacha20poly1305_ietf_ABYTES: number;
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Buffer, m: Buffer, ad: Buffer | null, nsec: null, npub: Buffer, k: Buffer): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Buffer, nsec: null, c: Buffer, ad: Buffer | null, npub: Buffer, k: Buffer): number;
}
const aead = sodium as unknown as IetfAead;
const TAG_BYTES = aead.crypto_aead_chacha20poly1305_ietf_ABYTES;

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
/** One buffer or a list of them (Uint8ArrayList), as Noise passes them. */
type Bytes = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0];
const contiguous = (u: Bytes): Buffer => asBuffer(u instanceof Uint8Array ? u : u.subarray());

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    const m = contiguous(plaintext);
    const out = Buffer.allocUnsafe(m.byteLength + TAG_BYTES);
    aead.crypto_aead_chacha20poly1305_ietf_encrypt(out, m, asBuffer(ad), null, asBuffer(nonce), asBuffer(k));
    return out;
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    const c = contiguous(ciphertext);
    if (c.byteLength < TAG_BYTES) throw new Error('Invalid chacha20poly1305 decryption');
    const n = c.byteLength - TAG_BYTES;
    // In place only where Noise said so and the region is exactly the ciphertext's start.
    const inPlace = dst !== undefined && dst.byteLength === n && dst.buffer === c.buffer && dst.byteOffset === c.byteOffset;
    const out = inPlace ? asBuffer(dst) : Buffer.allocUnsafe(n);
    try {
      aead.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, c, asBuffer(ad), asBuffer(nonce), asBuffer(k));
    } catch {
      throw new Error('Invalid chacha20poly1305 decryption');
    }
    return out;
  },
};
