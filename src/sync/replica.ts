// What a sync session needs from the workspace it replicates. The workspace layer implements it;
// sync knows nothing of keys, members or tools.
import type { PreparedBatch, ReadyBatch, ReceivedBatch } from '../core/entry-crypto.ts';
import type { VersionVector } from '../core/version-vector.ts';

export interface Rejection {
  author: string;
  seq: number;
  reason: string;
}

export interface IngestReport {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
  /** Highest seq per author (hex) present in the batch, whatever became of it: the sender holds those. */
  seen: Map<string, number>;
}

export interface Replica {
  readonly id: Uint8Array;
  /** Current heads; sessions must not modify it. */
  vector(): VersionVector;
  readAfter(author: Uint8Array, afterSeq: number, limit: number): { seq: number; order: number; bytes: Uint8Array }[];
  /** Validates and applies a batch received from `fromKey`. Throws DecodeError if an entry is malformed. */
  ingest(entries: Uint8Array[], fromKey: Uint8Array, prepared?: PreparedBatch): IngestReport;
  /**
   * Optional: starts a received batch's per-entry work (unpacking, hashes, decryption) off the main
   * thread; the session passes the result to `ingest` and meanwhile reads the next frame. Rejects
   * only with DecodeError (a malformed packed batch). Without it the session unpacks inline.
   */
  prepare?(batch: ReceivedBatch): Promise<ReadyBatch>;
  /** Called after new entries are stored (ours or received). Returns an unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  /** Fork evidence (optional: replicas that track forks). */
  forks?: ForkTracking;
}

/** How a replica handles authors that forked their logs (see core/fork-proof.ts). */
export interface ForkTracking {
  /** The seq from which an author's log is void, if it forked. */
  forkedAt(authorHex: string): number | undefined;
  /** Proofs held, each two entries, to pass on. */
  proofs(): Uint8Array[][];
  /** Our stored entry at (author, seq), to send as a hint when the remote's head differs. */
  entryAt(author: Uint8Array, seq: number): Uint8Array | undefined;
  hashAt(author: Uint8Array, seq: number): Uint8Array | undefined;
  /** Evidence from a remote (a hint or a proof); throws DecodeError if malformed. True if it was news. */
  report(entries: Uint8Array[]): boolean;
}
