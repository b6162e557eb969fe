// Online / offline at a glance: whether this page reaches its daemon (the event stream), and
// whether the daemon reaches other peers (its connection count), and, in a workspace, how many
// entries it still waits for from them ("syncing N", polled every 2 s).
import { useEffect, useState } from 'react';
import { api } from '../api/endpoints.ts';
import { useApp, useCapabilities } from '../app/app-state.tsx';
import { useRoute } from '../lib/router.ts';

const SYNC_POLL_MS = 2000;

/** Entries this daemon still waits for in the workspace on screen; 0 outside one or on old daemons. */
function usePending(): number {
  const ws = useRoute().workspace;
  const served = useCapabilities().has('GET /api/workspaces/:ws/sync');
  const [pending, setPending] = useState(0);
  useEffect(() => {
    setPending(0);
    if (!ws || !served) return;
    let live = true;
    const poll = () => { api.sync(ws).then((s) => { if (live) setPending(s.pending); }, () => undefined); };
    poll();
    const timer = setInterval(poll, SYNC_POLL_MS);
    return () => { live = false; clearInterval(timer); };
  }, [ws, served]);
  return pending;
}

export function ConnectionIndicator() {
  const { streamState, me } = useApp();
  const pending = usePending();
  // 'unreachable': this page lost its daemon; 'offline': the daemon reaches no other peer.
  let state: 'online' | 'offline' | 'connecting' | 'unreachable';
  let text: string;
  if (streamState === 'connecting') { state = 'connecting'; text = 'Connecting…'; }
  else if (streamState === 'closed') { state = 'unreachable'; text = 'Daemon unreachable'; }
  else if (me.connections === 0) { state = 'offline'; text = 'Offline · no peers'; }
  else { state = 'online'; text = `Online · ${me.connections} peer${me.connections === 1 ? '' : 's'}`; }
  if (state === 'online' && pending > 0) text += ` · syncing ${pending}`;
  return (
    <div className={`connection connection-${state}`} role="status" aria-live="polite" data-state={state}
      title={state === 'offline' ? 'Your daemon runs but is connected to no other member right now: changes wait until one is online.' : undefined}>
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-text">{text}</span>
    </div>
  );
}
