// Online / offline at a glance: whether this page reaches its daemon (the event stream), and
// whether the daemon reaches other peers (its connection count).
import { useApp } from '../app/app-state.tsx';

export function ConnectionIndicator() {
  const { streamState, me } = useApp();
  // 'unreachable': this page lost its daemon; 'offline': the daemon reaches no other peer.
  let state: 'online' | 'offline' | 'connecting' | 'unreachable';
  let text: string;
  if (streamState === 'connecting') { state = 'connecting'; text = 'Connecting…'; }
  else if (streamState === 'closed') { state = 'unreachable'; text = 'Daemon unreachable'; }
  else if (me.connections === 0) { state = 'offline'; text = 'Offline · no peers'; }
  else { state = 'online'; text = `Online · ${me.connections} peer${me.connections === 1 ? '' : 's'}`; }
  return (
    <div className={`connection connection-${state}`} role="status" aria-live="polite" data-state={state}
      title={state === 'offline' ? 'Your daemon runs but is connected to no other member right now: changes wait until one is online.' : undefined}>
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-text">{text}</span>
    </div>
  );
}
