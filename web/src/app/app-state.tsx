// What the whole page shares: who we are, our workspaces with unread counts, and the live event
// stream. Components read it with useApp(); each workspace view loads its own details.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/endpoints.ts';
import { EventStream, type StreamState } from '../api/events.ts';
import type { PeerEvent, PeerStatus, WorkspaceInfo } from '../api/types.ts';
import { keyOfPeerId } from '../lib/peer-key.ts';
import { lastRead, markRead, unreadIn } from './unread.ts';

export interface AppState {
  me: PeerStatus;
  /** Our member key (hex), as member lists show it. */
  myKey: string;
  workspaces: WorkspaceInfo[];
  unread: Record<string, number>;
  stream: EventStream;
  streamState: StreamState;
  refreshWorkspaces: () => Promise<void>;
  refreshStatus: () => Promise<void>;
  /** The user has seen the chat of this workspace up to this message. */
  readChat: (ws: string, lastId: string | undefined) => void;
  /** Registers the workspace whose chat is on screen (its messages do not count as unread). */
  setChatOnScreen: (ws: string | undefined) => void;
  capabilities: ReadonlySet<string>;
}

const Ctx = createContext<AppState | null>(null);

export function useApp(): AppState {
  const v = useContext(Ctx);
  if (v === null) throw new Error('useApp outside AppProvider');
  return v;
}

/** The routes the daemon serves (empty until known): features whose route is missing are not offered. */
export function useCapabilities(): ReadonlySet<string> {
  return useApp().capabilities;
}

/** Subscribes to the event stream for the life of the component. */
export function usePeerEvents(listener: (e: PeerEvent) => void): void {
  const { stream } = useApp();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => stream.on((e) => ref.current(e)), [stream]);
}

const STATUS_POLL_MS = 5000;

export function AppProvider({ initialStatus, children }: { initialStatus: PeerStatus; children: ReactNode }) {
  const [me, setMe] = useState(initialStatus);
  const [workspaces, setWorkspaces] = useState<WorkspaceInfo[]>([]);
  const [unread, setUnread] = useState<Record<string, number>>({});
  const [stream] = useState(() => new EventStream());
  const [streamState, setStreamState] = useState<StreamState>(stream.state);
  const [capabilities, setCapabilities] = useState<ReadonlySet<string>>(new Set());
  const chatOnScreen = useRef<string | undefined>(undefined);
  const myKey = useMemo(() => keyOfPeerId(me.peerId) ?? '', [me.peerId]);
  const myKeyRef = useRef(myKey);
  myKeyRef.current = myKey;
  const reader = me.peerId;

  const refreshStatus = useCallback(async () => {
    try { setMe(await api.status()); } catch { /* the indicator shows the daemon as unreachable */ }
  }, []);

  const recount = useCallback(async (list: WorkspaceInfo[]) => {
    const counts: Record<string, number> = {};
    await Promise.all(list.filter((w) => w.role !== 'removed').map(async (w) => {
      try {
        const log = await api.chat(w.id);
        counts[w.id] = w.id === chatOnScreen.current ? 0 : unreadIn(log, myKeyRef.current, lastRead(reader, w.id));
      } catch { counts[w.id] = 0; }
    }));
    setUnread(counts);
  }, [reader]);

  const refreshWorkspaces = useCallback(async () => {
    const list = await api.workspaces();
    list.sort((a, b) => a.name.localeCompare(b.name));
    setWorkspaces(list);
    await recount(list);
  }, [recount]);

  useEffect(() => {
    const offState = stream.onState((s) => {
      setStreamState(s);
      // Back after a break: anything may have changed meanwhile.
      if (s === 'open') { void refreshWorkspaces().catch(() => undefined); void refreshStatus(); }
    });
    const offEvents = stream.on((e) => {
      if (e.type === 'workspace' || e.type === 'removed' || e.type === 'members') void refreshWorkspaces().catch(() => undefined);
      if (e.type === 'members') void refreshStatus();
      if (e.type === 'chat' && e.message.author !== myKeyRef.current) {
        if (e.workspace === chatOnScreen.current) markRead(reader, e.workspace, e.message.id);
        else setUnread((u) => ({ ...u, [e.workspace]: (u[e.workspace] ?? 0) + 1 }));
      }
    });
    stream.start();
    void api.capabilities().then((c) => setCapabilities(new Set(c.routes)), () => undefined);
    void refreshWorkspaces().catch(() => undefined);
    const poll = window.setInterval(() => void refreshStatus(), STATUS_POLL_MS);
    return () => { offState(); offEvents(); stream.stop(); window.clearInterval(poll); };
  }, [stream, refreshWorkspaces, refreshStatus, reader]);

  const readChat = useCallback((ws: string, lastId: string | undefined) => {
    if (lastId !== undefined) markRead(reader, ws, lastId);
    setUnread((u) => (u[ws] ? { ...u, [ws]: 0 } : u));
  }, [reader]);

  const setChatOnScreen = useCallback((ws: string | undefined) => { chatOnScreen.current = ws; }, []);

  const value = useMemo<AppState>(() => ({
    me, myKey, workspaces, unread, stream, streamState, refreshWorkspaces, refreshStatus, readChat, setChatOnScreen, capabilities,
  }), [me, myKey, workspaces, unread, stream, streamState, refreshWorkspaces, refreshStatus, readChat, setChatOnScreen, capabilities]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
