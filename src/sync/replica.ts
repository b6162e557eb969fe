// What a sync session needs from the workspace it replicates. The workspace layer implements it;
// sync knows nothing of keys, members or tools.
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
  ingest(entries: Uint8Array[], fromKey: Uint8Array): IngestReport;
  /** Called after new entries are stored (ours or received). Returns an unsubscribe function. */
  subscribe(onChange: () => void): () => void;
}
