// Our member key, from our libp2p peer id. Trellis uses the device's Ed25519 signing key as its
// libp2p key, and such a peer id ("12D3KooW…") is base58btc of an identity multihash holding the
// protobuf-encoded public key: 0x00 0x24 | 0x08 0x01 (type Ed25519) 0x12 0x20 | 32 key bytes.
// The API lists members by key, so this is how the page recognises "me".
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(text: string): Uint8Array | undefined {
  const bytes: number[] = [0];
  for (const ch of text) {
    let carry = ALPHABET.indexOf(ch);
    if (carry < 0) return undefined;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) { bytes.push(carry & 0xff); carry >>= 8; }
  }
  for (const ch of text) { if (ch !== '1') break; bytes.push(0); }
  return Uint8Array.from(bytes.reverse());
}

/** The Ed25519 key (hex) inside a peer id; undefined for any other kind of id. */
export function keyOfPeerId(peerId: string): string | undefined {
  const b = base58(peerId);
  if (b === undefined) return undefined;
  // Leading zero bytes come from leading '1's; the multihash starts with one 0x00 (identity).
  const start = b.length - 38;
  if (start < 0 || b[start] !== 0x00 || b[start + 1] !== 0x24 || b[start + 2] !== 0x08 || b[start + 3] !== 0x01 || b[start + 4] !== 0x12 || b[start + 5] !== 0x20) return undefined;
  return Array.from(b.subarray(start + 6), (x) => x.toString(16).padStart(2, '0')).join('');
}
