// The workspace's tool list. It lives in the registry document (id 0…0), which only managers may
// change (checked by every replica when the entry arrives, and by DocAccess before writing):
//
//   Y.Map 'tools': instance id (32 hex, = the id of the instance's document)
//                  → { type: string, name: string, createdBy: key hex, createdAt: ms }
//
// Records are plain values, replaced whole, so concurrent edits of one record resolve to one of
// them. Names are unique when added; two managers adding the same name offline both keep their
// tool, and the name then resolves to neither (use the id).
import type * as Y from 'yjs';
import { TrellisError } from '../../core/errors.ts';
import { MAX_NAME_CHARS } from '../../core/limits.ts';
import { isInstanceId, newInstanceId } from '../common/ids.ts';
import { cleanText, num, str } from '../common/text.ts';
import type { DocAccess } from '../doc-access.ts';
import { REGISTRY_DOC_ID } from '../docs/doc-tool.ts';
import type { ToolInstance } from '../tool.ts';

export const TOOLS_MAP = 'tools';
export const TOOL_LIST_HINT = 'see `trellis tool list WS`';

/** The instances listed in a registry document, oldest first. */
export function readToolList(registry: Y.Doc): ToolInstance[] {
  const out: ToolInstance[] = [];
  for (const [id, v] of registry.getMap<unknown>(TOOLS_MAP).entries()) {
    if (!isInstanceId(id) || typeof v !== 'object' || v === null) continue;
    const r = v as Record<string, unknown>;
    if (str(r.type) === '' || str(r.name) === '') continue;
    out.push({ id, type: str(r.type), name: str(r.name), createdBy: str(r.createdBy), createdAt: num(r.createdAt) });
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

export function toolList(access: DocAccess, ws: string): ToolInstance[] {
  return readToolList(access.doc(ws, REGISTRY_DOC_ID));
}

export function cleanToolName(name: unknown): string {
  const n = cleanText('the tool name', name, { max: MAX_NAME_CHARS });
  if (isInstanceId(n)) throw new TrellisError('invalid', 'the tool name must not look like a tool id (32 hex characters)');
  return n;
}

function mustManage(access: DocAccess, ws: string): void {
  if (access.role(ws) !== 'manager') throw new TrellisError('forbidden', 'only managers may add or remove tools: ask a manager of this workspace');
}

/** Adds an instance of `type` (the caller checks that the type exists). */
export function addToolInstance(access: DocAccess, ws: string, type: string, name: string): ToolInstance {
  mustManage(access, ws);
  const clean = cleanToolName(name);
  if (toolList(access, ws).some((t) => t.name === clean)) {
    throw new TrellisError('conflict', `this workspace has a tool named "${clean}" already: choose another name`);
  }
  const instance: ToolInstance = { id: newInstanceId(), type, name: clean, createdBy: access.keyHex, createdAt: Date.now() };
  access.changeDoc(ws, REGISTRY_DOC_ID, (d) => {
    d.getMap<unknown>(TOOLS_MAP).set(instance.id, { type, name: clean, createdBy: instance.createdBy, createdAt: instance.createdAt });
  });
  return instance;
}

/** Removes an instance from the list. Its document stays in the history (entries are never deleted). */
export function removeToolInstance(access: DocAccess, ws: string, ref: string): ToolInstance {
  mustManage(access, ws);
  const t = resolveTool(access, ws, ref);
  access.changeDoc(ws, REGISTRY_DOC_ID, (d) => { d.getMap<unknown>(TOOLS_MAP).delete(t.id); });
  return t;
}

/**
 * The instance `ref` names: its id, or a name that exactly one instance has. With `type`, the
 * instance must be of that type.
 */
export function resolveTool(access: DocAccess, ws: string, ref: string, type?: string): ToolInstance {
  if (typeof ref !== 'string' || ref.trim() === '') throw new TrellisError('invalid', `a tool id or name is required (${TOOL_LIST_HINT})`);
  const list = toolList(access, ws);
  const r = ref.trim();
  let found = list.find((t) => t.id === r.toLowerCase());
  if (!found) {
    const named = list.filter((t) => t.name === r);
    if (named.length > 1) throw new TrellisError('invalid', `${named.length} tools are named "${r}": use the tool's id (${TOOL_LIST_HINT})`);
    found = named[0];
  }
  if (!found) throw new TrellisError('not-found', `no tool "${r.slice(0, 60)}" in this workspace (${TOOL_LIST_HINT})`);
  if (type !== undefined && found.type !== type) {
    throw new TrellisError('invalid', `"${found.name}" is a ${found.type} tool, not a ${type} tool (${TOOL_LIST_HINT})`);
  }
  return found;
}
