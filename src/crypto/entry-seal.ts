// Builds sealed entries (encrypt, then sign) and opens them. The only place that knows how
// the workspace key, the AEAD and the signature combine on an entry.
import {
  attachSignature, encodeHeader, encodeUnsigned, type Entry, type EntryHeader, headerPart,
} from '../core/entry.ts';
import type { EntryCrypto } from '../core/entry-crypto.ts';
import { aeadOpen, aeadSeal, hash, randomBytes, sign, verify, AEAD_NONCE_BYTES } from './sodium.ts';

export const entryCrypto: EntryCrypto = { hash: (b) => hash(b), verify };

export type UnsealedHeader = Omit<EntryHeader, 'nonce'>;

/** Encrypts `plaintext` under the epoch key with the header as associated data, then signs it all. */
export function sealEntry(header: UnsealedHeader, plaintext: Uint8Array, key: Uint8Array, signingSecret: Uint8Array): Uint8Array {
  const full: EntryHeader = { ...header, nonce: randomBytes(AEAD_NONCE_BYTES) };
  const head = encodeHeader(full);
  const ciphertext = aeadSeal(plaintext, head, full.nonce, key);
  const unsigned = encodeUnsigned(head, ciphertext);
  return attachSignature(unsigned, sign(unsigned, signingSecret));
}

/** Null when the key does not open it (wrong epoch key, tampering). */
export function openEntry(e: Entry, key: Uint8Array): Uint8Array | null {
  return aeadOpen(e.ciphertext, headerPart(e), e.nonce, key);
}

export function entryHash(bytes: Uint8Array): Uint8Array {
  return hash(bytes);
}
