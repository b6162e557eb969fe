// Port through which the pure core asks for the few primitives it needs to check entries.
// The crypto layer implements it; tests can too. Keeps core free of native modules.
export interface EntryCrypto {
  hash(bytes: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/**
 * Work done ahead for a received batch, off the main thread (crypto/entry-preparer.ts), looked up
 * by the very bytes object of each entry. Missing answers are computed as usual.
 */
export interface PreparedBatch {
  /** The entry's hash, if computed. */
  hash(bytes: Uint8Array): Uint8Array | undefined;
  /** Its plaintext; null: the epoch key tried did not open it; undefined: not tried (public entry, or no key yet). */
  plain(bytes: Uint8Array): Uint8Array | null | undefined;
}

/** A batch as received: whole entries (ENTRIES) or a packed body (ENTRIES_PACKED, core/entry-pack.ts). */
export type ReceivedBatch = { entries: Uint8Array[] } | { packed: Uint8Array };

/** The entries of a received batch, with whatever work was done ahead on them. */
export interface ReadyBatch {
  entries: Uint8Array[];
  prepared?: PreparedBatch;
}
