// A workspace id is derived from its creator's key and a random nonce, so anyone holding the
// create entry can check who founded the workspace.
import { concatBytes, fromHex, toHex } from '../core/bytes.ts';
import { WORKSPACE_ID_BYTES } from '../core/entry.ts';
import { hash } from '../crypto/sodium.ts';

export function workspaceIdFor(creator: Uint8Array | string, nonceHex: string): string {
  const key = typeof creator === 'string' ? fromHex(creator) : creator;
  return toHex(hash(concatBytes([key, fromHex(nonceHex)]), WORKSPACE_ID_BYTES));
}
