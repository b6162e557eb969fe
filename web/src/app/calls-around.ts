// Calls going on in our workspaces, wherever we are in the app: who is in one (from presence), so
// the sidebar marks the workspace and a call that starts elsewhere is announced ("rings"), not
// only seen by someone who happens to have that workspace open.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api/endpoints.ts';
import { useApp, usePeerEvents } from './app-state.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { useRoute } from '../lib/router.ts';

/** Member lists are fetched at most this often per workspace when presence news comes. */
const REFETCH_MS = 1000;

/** Workspace id → names of the other members in a call there (none: no entry). */
export function useCallsAround(): Record<string, string[]> {
  const { workspaces, myKey } = useApp();
  const notify = useNotify();
  const route = useRoute();
  const [calls, setCalls] = useState<Record<string, string[]>>({});
  const pending = useRef(new Map<string, number>());
  const known = useRef<Record<string, string[]>>({});
  const routeRef = useRef(route.workspace);
  routeRef.current = route.workspace;
  const namesRef = useRef(new Map<string, string>());
  namesRef.current = new Map(workspaces.map((w) => [w.id, w.name]));

  const look = (ws: string) => {
    if (pending.current.has(ws)) return;
    pending.current.set(ws, window.setTimeout(() => {
      void api.members(ws).then((members) => {
        const inCall = members.filter((m) => m.key !== myKey && m.online && m.call).map((m) => m.name);
        const before = known.current[ws] ?? [];
        if (before.length === 0 && inCall.length > 0 && routeRef.current !== ws) {
          notify(`${inCall.join(', ')} started a call in ${namesRef.current.get(ws) ?? 'a workspace'}`);
        }
        known.current = { ...known.current, [ws]: inCall };
        setCalls((c) => {
          const next = { ...c };
          if (inCall.length > 0) next[ws] = inCall; else delete next[ws];
          return next;
        });
      }, () => undefined).finally(() => pending.current.delete(ws));
    }, REFETCH_MS));
  };

  usePeerEvents((e) => { if (e.type === 'presence' && e.member !== myKey) look(e.workspace); });

  // Workspaces we are out of have no calls for us; the rest are looked at once at the start.
  useEffect(() => {
    for (const w of workspaces) if (w.role !== 'removed' && known.current[w.id] === undefined) { known.current[w.id] = []; look(w.id); }
  }, [workspaces]);

  useEffect(() => () => { for (const t of pending.current.values()) window.clearTimeout(t); }, []);
  return calls;
}
