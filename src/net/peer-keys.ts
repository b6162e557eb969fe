// Maps Trellis signing keys (libsodium Ed25519) to libp2p keys and peer ids. An Ed25519 peer id
// embeds the public key itself, so a remote's peer id is enough to know who signed its entries.
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface';
import { equalBytes } from '../core/bytes.ts';

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;

/**
 * The libp2p private key for a libsodium Ed25519 secret key (32-byte seed followed by the 32-byte
 * public key). The public half is re-derived from the seed and checked, because libp2p would
 * otherwise trust whatever public key it is handed and announce a peer id we cannot sign for.
 */
export async function libp2pKeyOfSigningKey(secretKey: Uint8Array): Promise<Ed25519PrivateKey> {
  if (secretKey.byteLength !== SEED_BYTES + PUBLIC_KEY_BYTES) {
    throw new Error(`signing secret key must be ${SEED_BYTES + PUBLIC_KEY_BYTES} bytes (libsodium Ed25519 format)`);
  }
  // Copied so that a caller wiping its buffer later cannot change the key under libp2p.
  const key = await generateKeyPairFromSeed('Ed25519', Uint8Array.from(secretKey.subarray(0, SEED_BYTES)));
  if (!equalBytes(key.publicKey.raw, secretKey.subarray(SEED_BYTES))) {
    throw new Error('signing secret key is inconsistent: its public half does not match its seed');
  }
  return key;
}

/** Ed25519 public key (32 bytes) of a libp2p peer id string; throws on non-Ed25519 ids. */
export function publicKeyOfPeerId(peerId: string): Uint8Array {
  let id: PeerId;
  try {
    id = peerIdFromString(peerId);
  } catch (err) {
    throw new Error(`not a libp2p peer id: ${JSON.stringify(peerId)}`, { cause: err });
  }
  return publicKeyOf(id);
}

/** The peer id string for a 32-byte Ed25519 public key. */
export function peerIdOfPublicKey(publicKey: Uint8Array): string {
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw new Error(`an Ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.byteLength}`);
  }
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

export function publicKeyOf(id: PeerId): Uint8Array {
  if (id.type !== 'Ed25519') throw new Error(`peer ${id.toString()} does not have an Ed25519 key (type ${id.type})`);
  return Uint8Array.from(id.publicKey.raw);
}
