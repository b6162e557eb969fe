// The messages between entry-preparer.ts and its worker (entry-prepare-worker.ts).

/** offs[i] when entry i was not tried (public entry, no key for its epoch, malformed). */
export const NOT_TRIED = -1;
/** offs[i] when the key did not open entry i. */
export const NOT_OPENED = -2;

export interface PrepareRequest {
  id: number;
  /** The batch's entries concatenated (lens gives their lengths), or a packed body (lens empty). */
  buf: ArrayBuffer;
  packed: boolean;
  lens: Uint32Array;
  /** Epoch keys of the workspace, as known when the batch arrived. */
  keys: [number, Uint8Array][];
}

export type PrepareResult = PrepareDone | { id: number; error: string };

export interface PrepareDone {
  id: number;
  /** For a packed batch: the rebuilt entries, concatenated, and their lengths. */
  entries?: ArrayBuffer;
  lens?: Uint32Array;
  /** 32 bytes per entry. */
  hashes: ArrayBuffer;
  /** Plaintexts; entry i's at offs[i] (or NOT_TRIED / NOT_OPENED), plainLens[i] bytes. */
  plain: ArrayBuffer;
  offs: Int32Array;
  plainLens: Uint32Array;
  /** The worker's CPU time for this batch, ms (diagnostics). */
  cpuMs: number;
}
