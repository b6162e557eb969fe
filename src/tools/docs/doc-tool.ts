// Shared documents: each is a Yjs document; an entry carries one Yjs update for one document.
// Payload: 16-byte document id, then the Yjs (v1) update. Notes, tasks, calendars and the
// workspace's tool list are documents.
import * as Y from 'yjs';
import { toHex } from '../../core/bytes.ts';
import { EntryKind } from '../../core/entry.ts';
import type { AuthorInfo, ContentHandler, EntryContext } from '../../workspace/content-handler.ts';

export const DOC_ID_BYTES = 16;
/** The workspace's tool list: a document only managers may change. */
export const REGISTRY_DOC_ID = '00000000000000000000000000000000';

export function encodeDocUpdate(docId: Uint8Array, update: Uint8Array): Uint8Array {
  if (docId.byteLength !== DOC_ID_BYTES) throw new Error('a document id is 16 bytes');
  const out = new Uint8Array(DOC_ID_BYTES + update.byteLength);
  out.set(docId);
  out.set(update, DOC_ID_BYTES);
  return out;
}

// Catch-up applies long runs of updates to one document: remember the last id instead of
// converting the same 16 bytes to hex for every entry (a visible share of catch-up time).
let lastId: Uint8Array | undefined;
let lastIdHex = '';

export function docIdOf(plain: Uint8Array): string {
  if (lastId !== undefined) {
    let same = true;
    for (let i = 0; i < DOC_ID_BYTES; i++) if (lastId[i] !== plain[i]) { same = false; break; }
    if (same) return lastIdHex;
  }
  lastId = plain.slice(0, DOC_ID_BYTES);
  lastIdHex = toHex(lastId);
  return lastIdHex;
}

export class DocTool implements ContentHandler {
  readonly kind = EntryKind.docUpdate;
  private readonly docs = new Map<string, Y.Doc>();
  private readonly onChange: (workspaceHex: string, docIdHex: string) => void;
  failures = 0;

  constructor(onChange: (workspaceHex: string, docIdHex: string) => void = () => {}) {
    this.onChange = onChange;
  }

  check(plain: Uint8Array, author: AuthorInfo): string | undefined {
    if (plain.byteLength <= DOC_ID_BYTES) return 'document update too short';
    if (docIdOf(plain) === REGISTRY_DOC_ID && author.role !== 'manager') return 'only managers may change the tool list';
    return undefined;
  }

  /**
   * Applies the updates of a whole batch of entries in one Yjs transaction per document: per
   * transaction costs (merging, cleanup, events) dominated catch-up when paid per keystroke.
   */
  batch<T>(fn: () => T): T {
    if (this.pending) return fn();
    const pending = new Map<Y.Doc, { ws: string; docId: string; updates: Uint8Array[] }>();
    this.pending = pending;
    try {
      return fn();
    } finally {
      this.pending = undefined;
      for (const [doc, p] of pending) {
        doc.transact(() => {
          for (const u of p.updates) {
            try { Y.applyUpdate(doc, u, 'remote'); } catch { this.failures++; }
          }
        }, 'remote');
        this.onChange(p.ws, p.docId);
      }
    }
  }

  private pending: Map<Y.Doc, { ws: string; docId: string; updates: Uint8Array[] }> | undefined;

  apply(ctx: EntryContext, plain: Uint8Array): void {
    const docIdHex = docIdOf(plain);
    const doc = this.doc(ctx.workspaceHex, docIdHex);
    if (this.pending) {
      let p = this.pending.get(doc);
      if (!p) { p = { ws: ctx.workspaceHex, docId: docIdHex, updates: [] }; this.pending.set(doc, p); }
      p.updates.push(plain.subarray(DOC_ID_BYTES));
      return;
    }
    try {
      Y.applyUpdate(doc, plain.subarray(DOC_ID_BYTES), 'remote');
    } catch {
      // A signed update from a member that Yjs cannot read: counted, not fatal.
      this.failures++;
      return;
    }
    this.onChange(ctx.workspaceHex, docIdHex);
  }

  reset(workspaceHex: string): void {
    this.lastDoc = undefined;
    for (const k of [...this.docs.keys()]) if (k.startsWith(workspaceHex + '/')) this.docs.delete(k);
  }

  /** Puts a rebuilt document in place of the live one (after a change that could not be written). */
  replace(workspaceHex: string, docIdHex: string, doc: Y.Doc): void {
    this.lastDoc = undefined;
    this.docs.set(`${workspaceHex}/${docIdHex}`, doc);
    this.onChange(workspaceHex, docIdHex);
  }

  private lastDoc: { ws: string; id: string; doc: Y.Doc } | undefined;

  /** The live document (created empty if nothing was written to it yet). */
  doc(workspaceHex: string, docIdHex: string): Y.Doc {
    // Runs of updates to one document: skip building the key (reset and replace forget lastDoc).
    const last = this.lastDoc;
    if (last && last.ws === workspaceHex && last.id === docIdHex) return last.doc;
    const k = `${workspaceHex}/${docIdHex}`;
    let d = this.docs.get(k);
    if (!d) { d = new Y.Doc(); this.docs.set(k, d); }
    this.lastDoc = { ws: workspaceHex, id: docIdHex, doc: d };
    return d;
  }
}
