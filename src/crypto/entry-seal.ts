// Builds sealed entries (encrypt, then sign) and opens them. The only place that knows how
// the workspace key, the AEAD and the signature combine on an entry.
import {
  attachSignature, encodeHeader, encodeUnsigned, type Entry, EntryKind, type EntryHeader, headerPart,
} from '../core/entry.ts';
import type { EntryCrypto } from '../core/entry-crypto.ts';
import { aeadOpen, aeadSeal, hash, randomBytes, sign, verify, AEAD_NONCE_BYTES } from './sodium.ts';

export const entryCrypto: EntryCrypto = { hash: (b) => hash(b), verify };

export type UnsealedHeader = Omit<EntryHeader, 'nonce'>;

/**
 * Encrypts `plaintext` under the epoch key with the header as associated data, then signs it all.
 * Control entries are the exception: public (signed, not encrypted, zero nonce), so that relays
 * can check membership without keys; their private fields are sealed inside the payload.
 */
export function sealEntry(header: UnsealedHeader, plaintext: Uint8Array, key: Uint8Array | null, signingSecret: Uint8Array): Uint8Array {
  const isPublic = header.kind === EntryKind.control;
  const full: EntryHeader = { ...header, nonce: isPublic ? new Uint8Array(AEAD_NONCE_BYTES) : randomBytes(AEAD_NONCE_BYTES) };
  const head = encodeHeader(full);
  if (!isPublic && !key) throw new Error('an encrypted entry needs a key');
  const ciphertext = isPublic ? plaintext : aeadSeal(plaintext, head, full.nonce, key!);
  const unsigned = encodeUnsigned(head, ciphertext);
  return attachSignature(unsigned, sign(unsigned, signingSecret));
}

/** Null when the key does not open it (wrong epoch key, tampering). Control entries are public. */
export function openEntry(e: Entry, key: Uint8Array | undefined): Uint8Array | null {
  if (e.kind === EntryKind.control) return e.ciphertext;
  if (!key) return null;
  return aeadOpen(e.ciphertext, headerPart(e), e.nonce, key);
}

export function entryHash(bytes: Uint8Array): Uint8Array {
  return hash(bytes);
}
