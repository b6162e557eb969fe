// Joins waiting at a relay for an offline inviter, and how they stand.
import { useEffect, useState } from 'react';
import { api } from '../api/endpoints.ts';
import type { PendingJoinInfo } from '../api/types.ts';
import { relativeTime } from '../lib/format.ts';
import { useCapabilities, usePeerEvents } from './app-state.tsx';

const POLL_MS = 5000;
const STATE: Record<PendingJoinInfo['state'], string> = { queued: 'waiting for the inviter', joining: 'joining…', refused: 'refused', expired: 'expired' };

export function PendingJoins() {
  const available = useCapabilities().has('GET /api/joins');
  const [joins, setJoins] = useState<PendingJoinInfo[]>([]);
  const load = () => { if (available) api.pendingJoins().then(setJoins, () => undefined); };
  useEffect(load, [available]); // once the capability is known
  usePeerEvents((e) => { if (e.type === 'workspace') load(); });
  // Nothing announces a relay's answer before the join completes: look again while some wait.
  useEffect(() => {
    if (!joins.some((j) => j.state === 'queued' || j.state === 'joining')) return;
    const t = window.setInterval(load, POLL_MS);
    return () => window.clearInterval(t);
  }, [joins]); // the list decides whether to poll
  if (joins.length === 0) return null;
  return (
    <section className="card pending-joins" aria-labelledby="pending-joins">
      <h2 id="pending-joins" className="subheading">Waiting to join</h2>
      <ul className="plain-list">
        {joins.map((j) => (
          <li key={j.workspace} className="row spread">
            <span><strong>{j.name}</strong> <span className="muted small">since {relativeTime(j.since)}</span></span>
            <span className={j.state === 'refused' || j.state === 'expired' ? 'tag tag-muted' : 'tag tag-participant'} title={j.reason}>{STATE[j.state]}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
