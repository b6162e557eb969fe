// Who I am, the connection state, and my workspaces with their unread counts and calls going on.
import { useState } from 'react';
import { Avatar } from '../components/Avatar.tsx';
import { ConnectionIndicator } from '../components/ConnectionIndicator.tsx';
import { Logo } from '../components/Logo.tsx';
import { navigate, useRoute } from '../lib/router.ts';
import { useApp } from './app-state.tsx';
import { useCallsAround } from './calls-around.ts';
import { CreateWorkspaceDialog } from './CreateWorkspaceDialog.tsx';
import { JoinDialog } from './JoinDialog.tsx';

export function Sidebar() {
  const { me, myKey, workspaces, unread } = useApp();
  const route = useRoute();
  const [dialog, setDialog] = useState<'create' | 'join' | null>(null);
  const calls = useCallsAround();

  return (
    <nav id="sidebar" className="sidebar" aria-label="Workspaces">
      <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate({}); }}>
        <Logo small />
        <span>Trellis</span>
      </a>
      <div className="me">
        <Avatar name={me.name} memberKey={myKey} />
        <div className="me-text">
          <span className="me-name">{me.name}</span>
          <ConnectionIndicator />
        </div>
      </div>
      <h2 className="sidebar-heading">Workspaces</h2>
      <ul className="workspace-list">
        {workspaces.map((w) => {
          const n = unread[w.id] ?? 0;
          const current = route.workspace === w.id;
          return (
            <li key={w.id}>
              <a
                href={`/w/${w.id}`}
                className={current ? 'workspace-link current' : 'workspace-link'}
                aria-current={current ? 'page' : undefined}
                onClick={(e) => { e.preventDefault(); navigate({ workspace: w.id }); }}
              >
                <span className="workspace-initial" aria-hidden="true">{[...w.name][0]?.toUpperCase()}</span>
                <span className="workspace-name">{w.name}</span>
                {w.role === 'removed' && <span className="tag tag-muted">removed</span>}
                {calls[w.id] && <span className="tag tag-call" aria-label={`call: ${calls[w.id].join(', ')}`} title={`In a call: ${calls[w.id].join(', ')}`}>call</span>}
                {n > 0 && <span className="badge" aria-label={`${n} unread`}>{n > 99 ? '99+' : n}</span>}
              </a>
            </li>
          );
        })}
        {workspaces.length === 0 && <li className="muted small empty-note">No workspaces yet.</li>}
      </ul>
      <div className="sidebar-actions">
        <button type="button" className="button primary" onClick={() => setDialog('create')}>New workspace</button>
        <button type="button" className="button" onClick={() => setDialog('join')}>Join with a code</button>
      </div>
      <CreateWorkspaceDialog open={dialog === 'create'} onClose={() => setDialog(null)} />
      <JoinDialog open={dialog === 'join'} onClose={() => setDialog(null)} />
    </nav>
  );
}
