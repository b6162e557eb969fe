// The storage port. One SQLite implementation for real use, one in-memory one for tests and
// benchmarks of upper layers; both must pass test/store/store-contract.ts.
//
// The store holds only what is safe at rest: entries as received (encrypted, signed), workspace
// keys sealed under the device's storage key, invitations, known peer addresses. Decrypted state
// (chat texts, documents) lives in memory and is rebuilt from entries.
export interface EntryRow {
  author: Uint8Array;
  seq: number;
  hash: Uint8Array;
  bytes: Uint8Array;
}

export interface HeadRow {
  author: Uint8Array;
  seq: number;
  hash: Uint8Array;
}

export interface InviteRow {
  /** The invitation's id: the public key its secret seeds (PROTOCOL.md §4). */
  id: Uint8Array;
  /** The one-time secret itself: the inviter checks the joiner's proof with it. */
  secret: Uint8Array;
  workspace: Uint8Array;
  role: string;
  expires: number;
  /** Key of the member who used it, once used. */
  usedBy?: Uint8Array;
}

export interface Store {
  addWorkspace(id: Uint8Array): void;
  workspaceIds(): Uint8Array[];
  /** Forgets a workspace and everything held for it (entries, keys, fork proofs, invitations): a relay detached from it, a peer deleting it. */
  removeWorkspace(id: Uint8Array): void;
  putKey(workspace: Uint8Array, epoch: number, sealedKey: Uint8Array): void;
  keys(workspace: Uint8Array): { epoch: number; sealedKey: Uint8Array }[];

  /**
   * Appends entries in one transaction; rows must extend their author's log in order. `durable`:
   * on disk before it returns, even across a power loss (our own entries: losing one that peers
   * already hold would make us reuse its seq, which they would take for a forked log).
   */
  appendEntries(workspace: Uint8Array, rows: EntryRow[], durable?: boolean): void;
  heads(workspace: Uint8Array): HeadRow[];
  hashAt(workspace: Uint8Array, author: Uint8Array, seq: number): Uint8Array | undefined;
  /** Every entry of a workspace in the order it was stored (a causal order). */
  allEntries(workspace: Uint8Array): Iterable<Uint8Array>;
  /**
   * Up to `limit` entries of one author with seq > afterSeq, in seq order, each with its position
   * in the store's insertion order (`order`), so callers can merge several authors causally.
   */
  readAfter(workspace: Uint8Array, author: Uint8Array, afterSeq: number, limit: number): { seq: number; order: number; bytes: Uint8Array }[];

  /** Keeps a proof that `author` forked its log at `seq` (two entries it signed); once per author. */
  putFork(workspace: Uint8Array, author: Uint8Array, seq: number, a: Uint8Array, b: Uint8Array): void;
  forks(workspace: Uint8Array): { author: Uint8Array; seq: number; a: Uint8Array; b: Uint8Array }[];

  putInvite(invite: InviteRow): void;
  getInvite(id: Uint8Array): InviteRow | undefined;
  /** The invitations this device issued for a workspace, oldest expiry first. */
  invitesOf(workspace: Uint8Array): InviteRow[];
  /** Marks the invitation used, atomically; false if it was used already. */
  useInvite(id: Uint8Array, by: Uint8Array): boolean;

  setPeerAddrs(peerKey: Uint8Array, addrs: string[]): void;
  peerAddrs(): { key: Uint8Array; addrs: string[] }[];

  close(): void;
}

/** A stored entry's bytes at (author, seq), if held. */
export function storedEntryAt(store: Store, workspace: Uint8Array, author: Uint8Array, seq: number): Uint8Array | undefined {
  if (seq < 1) return undefined;
  const row = store.readAfter(workspace, author, seq - 1, 1)[0];
  return row && row.seq === seq ? row.bytes : undefined;
}
