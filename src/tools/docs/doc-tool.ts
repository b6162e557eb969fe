// Shared documents: each is a Yjs document; an entry carries one Yjs update for one document.
// Payload: 16-byte document id, then the Yjs (v1) update. Notes, tasks and calendars build on it.
import * as Y from 'yjs';
import { toHex } from '../../core/bytes.ts';
import { EntryKind } from '../../core/entry.ts';
import type { ContentHandler, EntryContext } from '../../workspace/content-handler.ts';

export const DOC_ID_BYTES = 16;

export function encodeDocUpdate(docId: Uint8Array, update: Uint8Array): Uint8Array {
  if (docId.byteLength !== DOC_ID_BYTES) throw new Error('a document id is 16 bytes');
  const out = new Uint8Array(DOC_ID_BYTES + update.byteLength);
  out.set(docId);
  out.set(update, DOC_ID_BYTES);
  return out;
}

export class DocTool implements ContentHandler {
  readonly kind = EntryKind.docUpdate;
  private readonly docs = new Map<string, Y.Doc>();
  failures = 0;

  check(plain: Uint8Array): string | undefined {
    return plain.byteLength > DOC_ID_BYTES ? undefined : 'document update too short';
  }

  apply(ctx: EntryContext, plain: Uint8Array): void {
    const doc = this.doc(ctx.workspaceHex, toHex(plain.subarray(0, DOC_ID_BYTES)));
    try {
      Y.applyUpdate(doc, plain.subarray(DOC_ID_BYTES), 'remote');
    } catch {
      // A signed update from a member that Yjs cannot read: counted, not fatal.
      this.failures++;
    }
  }

  /** The live document (created empty if nothing was written to it yet). */
  doc(workspaceHex: string, docIdHex: string): Y.Doc {
    const k = `${workspaceHex}/${docIdHex}`;
    let d = this.docs.get(k);
    if (!d) { d = new Y.Doc(); this.docs.set(k, d); }
    return d;
  }
}
