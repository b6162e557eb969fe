// What tools need from a peer to read and change a workspace's documents. The Peer implements it;
// tool modules (notes, tasks, calendar, …) take it as a parameter, so they never import the peer.
import type * as Y from 'yjs';
import type { Role } from '../core/membership.ts';

export interface DocMember {
  name: string;
  key: string;
  role: Role;
}

export interface HistoryItem {
  /** `<author hex>:<seq>` */
  id: string;
  author: string;
  authorName: string;
  kind: 'control' | 'chat' | 'doc';
  /** For document updates: the document id. */
  doc?: string;
  time: number;
}

export interface DocAccess {
  /** Id of a workspace given its id or unique name; throws TrellisError('not-found'). */
  resolveWorkspace(idOrName: string): string;
  /** The live document; read it, never change it directly (use changeDoc). */
  doc(ws: string, docIdHex: string): Y.Doc;
  /** Runs `change` in one Yjs transaction and writes the resulting update as one signed entry. Throws TrellisError('forbidden') if our role may not. */
  changeDoc(ws: string, docIdHex: string, change: (doc: Y.Doc) => void): void;
  /** Our role in the workspace. */
  role(ws: string): Role;
  /** Current members. */
  memberList(ws: string): DocMember[];
  /** Our own key (hex). */
  readonly keyHex: string;
  /** Every entry's author and time, oldest first. */
  history(ws: string): HistoryItem[];
  /** The document as it was once every entry with time ≤ `until` was applied (time travel). */
  docAt(ws: string, docIdHex: string, until: number): Y.Doc;
  /** Called after any document changes (locally or from a remote). */
  onDocChange(listener: (ws: string, docIdHex: string) => void): () => void;
}
