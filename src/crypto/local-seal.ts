// Sealing secrets at rest (workspace keys in the store) under the device's storage key.
import { aeadOpen, aeadSeal, hash, randomBytes, AEAD_NONCE_BYTES } from './sodium.ts';

const STORAGE_KEY_CONTEXT = new TextEncoder().encode('trellis storage key v1');

/** Derives the device's storage key from its signing secret key (BLAKE2b keyed hash). */
export function deriveStorageKey(signingSecretKey: Uint8Array): Uint8Array {
  return hash(STORAGE_KEY_CONTEXT, 32, signingSecretKey.subarray(0, 32));
}

export function sealLocal(plaintext: Uint8Array, key: Uint8Array, context: Uint8Array): Uint8Array {
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  const ct = aeadSeal(plaintext, context, nonce, key);
  const out = new Uint8Array(nonce.byteLength + ct.byteLength);
  out.set(nonce);
  out.set(ct, nonce.byteLength);
  return out;
}

export function openLocal(sealed: Uint8Array, key: Uint8Array, context: Uint8Array): Uint8Array | null {
  if (sealed.byteLength < AEAD_NONCE_BYTES) return null;
  return aeadOpen(sealed.subarray(AEAD_NONCE_BYTES), context, sealed.subarray(0, AEAD_NONCE_BYTES), key);
}
