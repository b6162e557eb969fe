// A relay is named by a multiaddr that ends with its peer id (/p2p/ID): the id is its signing key,
// which the `relay` control entry records, so members can check they reached the right relay.
import { multiaddr } from '@multiformats/multiaddr';
import { toHex } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import { publicKeyOfPeerId } from '../net/libp2p-node.ts';

export interface RelayAddress {
  /** The relay's signing key, hex. */
  key: string;
  peerId: string;
  addr: string;
}

/** Parses a relay address; TrellisError('invalid') with what to write instead. */
export function parseRelayAddress(text: unknown): RelayAddress {
  const example = 'e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW… (`trellis status` on the relay shows its addresses)';
  if (typeof text !== 'string' || text.trim() === '') throw new TrellisError('invalid', `a relay address is required, ${example}`);
  const addr = text.trim();
  if (addr.length > 256 || !/^\/[\x21-\x7e]+$/.test(addr)) throw new TrellisError('invalid', `"${addr.slice(0, 80)}" is not a multiaddr: write it like ${example}`);
  let components;
  try {
    components = multiaddr(addr).getComponents();
  } catch {
    throw new TrellisError('invalid', `"${addr}" is not a valid multiaddr: write it like ${example}`);
  }
  const last = components.at(-1);
  if (last?.name !== 'p2p' || last.value === undefined) throw new TrellisError('invalid', `the relay address must end with /p2p/ and the relay's peer id, ${example}`);
  let key: Uint8Array;
  try {
    key = publicKeyOfPeerId(last.value);
  } catch {
    throw new TrellisError('invalid', `"${last.value}" is not the peer id of a Trellis relay (an Ed25519 key)`);
  }
  return { key: toHex(key), peerId: last.value, addr };
}
