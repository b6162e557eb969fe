// A workspace's live details: members (with presence) and tools, re-read whenever the event
// stream says they changed.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/endpoints.ts';
import type { MemberInfo, PermissionTable, ToolInstance } from '../api/types.ts';
import { usePeerEvents } from '../app/app-state.tsx';

/** The document holding the workspace's tool list (src/tools/docs/doc-tool.ts). */
export const REGISTRY_DOC_ID = '0'.repeat(32);

export interface WorkspaceData {
  members: MemberInfo[];
  tools: ToolInstance[];
  /** Which roles may write chat and documents (managers may change it). */
  permissions: PermissionTable | null;
  /** False until the first answer (so empty lists are not shown as "none"). */
  loaded: boolean;
  /** Whether this daemon serves tools (503 otherwise). */
  toolsAvailable: boolean;
  refresh: () => Promise<void>;
}

export function useWorkspace(ws: string, active: boolean): WorkspaceData {
  const [members, setMembers] = useState<MemberInfo[]>([]);
  const [tools, setTools] = useState<ToolInstance[]>([]);
  const [permissions, setPermissions] = useState<PermissionTable | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [toolsAvailable, setToolsAvailable] = useState(true);

  const loadMembers = useCallback(async () => {
    try {
      const [m, p] = await Promise.all([api.members(ws), api.permissions(ws)]);
      setMembers(m);
      setPermissions(p);
    } catch { /* removed, or not synced yet: keep what we had */ }
  }, [ws]);
  const loadTools = useCallback(async () => {
    try {
      setTools(await api.tools(ws));
      setToolsAvailable(true);
    } catch (err) {
      if ((err as { status?: number }).status === 503) setToolsAvailable(false);
    }
  }, [ws]);

  const refresh = useCallback(async () => {
    await Promise.all([loadMembers(), loadTools()]);
    setLoaded(true);
  }, [loadMembers, loadTools]);

  useEffect(() => { if (active) void refresh(); }, [refresh, active]);

  usePeerEvents((e) => {
    if (e.workspace !== ws) return;
    // Control entries (roles, removals, permissions) announce themselves as 'members'.
    if (e.type === 'members' || e.type === 'presence') void loadMembers();
    if (e.type === 'doc' && e.doc === REGISTRY_DOC_ID) void loadTools();
    // Not for a workspace we are out of: it may just have been deleted from this device.
    if (e.type === 'workspace' && active) void refresh();
  });

  return { members, tools, permissions, loaded, toolsAvailable, refresh };
}
