// The one crypto facade of Trellis, over libsodium (sodium-native). Everything else calls these
// functions, never sodium directly, so the primitives are chosen in one place.
import sodium from 'sodium-native';

export const SIGN_PUBLIC_BYTES = sodium.crypto_sign_PUBLICKEYBYTES; // 32
export const SIGN_SECRET_BYTES = sodium.crypto_sign_SECRETKEYBYTES; // 64
export const SIGNATURE_BYTES = sodium.crypto_sign_BYTES; // 64
export const BOX_PUBLIC_BYTES = sodium.crypto_box_PUBLICKEYBYTES; // 32
export const AEAD_KEY_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES; // 32
export const AEAD_NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES; // 24
const AEAD_TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES; // 16

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

const buf = (u: Uint8Array): Buffer => Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export function randomBytes(n: number): Uint8Array {
  const out = Buffer.alloc(n);
  sodium.randombytes_buf(out);
  return out;
}

/** Ed25519 signing key pair. */
export function signingKeyPair(): KeyPair {
  const publicKey = Buffer.alloc(SIGN_PUBLIC_BYTES);
  const secretKey = Buffer.alloc(SIGN_SECRET_BYTES);
  sodium.crypto_sign_keypair(publicKey, secretKey);
  return { publicKey, secretKey };
}

/** Ed25519 key pair from a 32-byte seed (deterministic: tests, key derivation). */
export function signingKeyPairFromSeed(seed: Uint8Array): KeyPair {
  const publicKey = Buffer.alloc(SIGN_PUBLIC_BYTES);
  const secretKey = Buffer.alloc(SIGN_SECRET_BYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, buf(seed));
  return { publicKey, secretKey };
}

/** X25519 key-agreement key pair (for sealed boxes). */
export function agreementKeyPair(): KeyPair {
  const publicKey = Buffer.alloc(BOX_PUBLIC_BYTES);
  const secretKey = Buffer.alloc(sodium.crypto_box_SECRETKEYBYTES);
  sodium.crypto_box_keypair(publicKey, secretKey);
  return { publicKey, secretKey };
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const sig = Buffer.alloc(SIGNATURE_BYTES);
  sodium.crypto_sign_detached(sig, buf(message), buf(secretKey));
  return sig;
}

export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== SIGNATURE_BYTES || publicKey.byteLength !== SIGN_PUBLIC_BYTES) return false;
  return sodium.crypto_sign_verify_detached(buf(signature), buf(message), buf(publicKey));
}

/** BLAKE2b; 32 bytes unless told otherwise; optionally keyed (a MAC). */
export function hash(message: Uint8Array, bytes = 32, key?: Uint8Array): Uint8Array {
  const out = Buffer.alloc(bytes);
  if (key) sodium.crypto_generichash(out, buf(message), buf(key));
  else sodium.crypto_generichash(out, buf(message));
  return out;
}

/** BLAKE2b-256 of `message` written into `out` (32 bytes): no allocation, for bulk hashing. */
export function hashInto(out: Uint8Array, message: Uint8Array): void {
  sodium.crypto_generichash(buf(out), buf(message));
}

/** XChaCha20-Poly1305 with a fresh random nonce. */
export function aeadSeal(plaintext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  const out = Buffer.alloc(plaintext.byteLength + AEAD_TAG_BYTES);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, buf(plaintext), buf(ad), null, buf(nonce), buf(key));
  return out;
}

/** Returns null when the ciphertext, nonce, key or associated data do not match. */
/** Opens into `out` (ciphertext length minus the tag); false when the key does not open it. */
export function aeadOpenInto(out: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
  if (ciphertext.byteLength < AEAD_TAG_BYTES || out.byteLength !== ciphertext.byteLength - AEAD_TAG_BYTES) return false;
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(buf(out), null, buf(ciphertext), buf(ad), buf(nonce), buf(key));
  } catch {
    return false;
  }
  return true;
}

export function aeadOpen(ciphertext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (ciphertext.byteLength < AEAD_TAG_BYTES) return null;
  const out = Buffer.alloc(ciphertext.byteLength - AEAD_TAG_BYTES);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, buf(ciphertext), buf(ad), buf(nonce), buf(key));
  } catch {
    return null;
  }
  return out;
}

/** Encrypts to an X25519 public key anonymously (libsodium sealed box). */
export function sealTo(message: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const out = Buffer.alloc(message.byteLength + sodium.crypto_box_SEALBYTES);
  sodium.crypto_box_seal(out, buf(message), buf(recipientPublicKey));
  return out;
}

export function openSealed(ciphertext: Uint8Array, keys: KeyPair): Uint8Array | null {
  if (ciphertext.byteLength < sodium.crypto_box_SEALBYTES) return null;
  const out = Buffer.alloc(ciphertext.byteLength - sodium.crypto_box_SEALBYTES);
  return sodium.crypto_box_seal_open(out, buf(ciphertext), buf(keys.publicKey), buf(keys.secretKey)) ? out : null;
}

/** Constant-time comparison for secrets and MACs. */
export function secretEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && sodium.sodium_memcmp(buf(a), buf(b));
}

/** Public key from an Ed25519 secret key (libsodium keeps it in the second half). */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return Buffer.from(secretKey.subarray(32, 64));
}
