// One change is one entry, and an entry holds at most 256 KiB. Tools that write large content
// (a long note, an imported calendar) split it into changes that each stay below this budget,
// which leaves room for the entry's header, dependencies and encryption overhead.
import * as Y from 'yjs';

export const MAX_UPDATE_BYTES = 160 * 1024;

/** Size of the Yjs update that `write` produces on an empty document: a close estimate of the update it adds to any document. */
export function updateSizeOf(write: (doc: Y.Doc) => void): number {
  const doc = new Y.Doc();
  write(doc);
  const n = Y.encodeStateAsUpdate(doc).byteLength;
  doc.destroy();
  return n;
}
