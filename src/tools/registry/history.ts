// History of a workspace as people read it: every entry's author and time, and for document
// updates the tool instance they changed (an instance id is its document id; the tool list says
// which documents are tools). Optionally only one tool's entries. Oldest first by the authors'
// clocks, ties broken by author and sequence number, so every replica lists the same order
// (storage order differs between replicas that received entries in different orders).
import type { DocAccess, HistoryItem } from '../doc-access.ts';
import { resolveTool, toolList } from './tool-list.ts';

export interface HistoryRow {
  id: string;
  author: string;
  authorName: string;
  kind: HistoryItem['kind'];
  /** Instance id, for changes to a tool's document. */
  tool?: string;
  time: number;
}

export function workspaceHistory(access: DocAccess, ws: string, toolRef?: string): HistoryRow[] {
  const only = toolRef === undefined ? undefined : resolveTool(access, ws, toolRef).id;
  const tools = new Set(toolList(access, ws).map((t) => t.id));
  const out: HistoryRow[] = [];
  for (const h of access.history(ws)) {
    const tool = h.doc !== undefined && tools.has(h.doc) ? h.doc : undefined;
    if (only !== undefined && tool !== only) continue;
    const row: HistoryRow = { id: h.id, author: h.author, authorName: h.authorName, kind: h.kind, time: h.time };
    if (tool !== undefined) row.tool = tool;
    out.push(row);
  }
  const seq = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));
  return out.sort((a, b) => a.time - b.time || (a.author < b.author ? -1 : a.author > b.author ? 1 : seq(a.id) - seq(b.id)));
}
