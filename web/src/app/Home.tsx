// The start page: workspaces as cards, or a first step when there are none.
import { useState } from 'react';
import { navigate } from '../lib/router.ts';
import { useApp } from './app-state.tsx';
import { CreateWorkspaceDialog } from './CreateWorkspaceDialog.tsx';
import { JoinDialog } from './JoinDialog.tsx';
import { PendingJoins } from './PendingJoins.tsx';

export function Home() {
  const { me, workspaces, unread } = useApp();
  const [dialog, setDialog] = useState<'create' | 'join' | null>(null);

  return (
    <div className="home">
      <header className="page-header">
        <h1>Hello, {me.name}</h1>
        <p className="muted">Your workspaces live on your devices and your collaborators' — nowhere else.</p>
      </header>
      <PendingJoins />
      {workspaces.length === 0 ? (
        <section className="empty-state card">
          <h2>Start a workspace</h2>
          <p className="muted">Create one and invite people, or join one with a code someone sent you.</p>
          <div className="row">
            <button type="button" className="button primary" onClick={() => setDialog('create')}>New workspace</button>
            <button type="button" className="button" onClick={() => setDialog('join')}>Join with a code</button>
          </div>
        </section>
      ) : (
        <ul className="card-grid" aria-label="Your workspaces">
          {workspaces.map((w) => (
            <li key={w.id}>
              <button type="button" className="card workspace-card" onClick={() => navigate({ workspace: w.id })}>
                <span className="workspace-initial big" aria-hidden="true">{[...w.name][0]?.toUpperCase()}</span>
                <span className="workspace-card-name">{w.name}</span>
                <span className="muted small">{w.role === 'removed' ? 'you were removed' : `${w.members} member${w.members === 1 ? '' : 's'} · ${w.role}`}</span>
                {(unread[w.id] ?? 0) > 0 && <span className="badge">{unread[w.id]} unread</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
      <CreateWorkspaceDialog open={dialog === 'create'} onClose={() => setDialog(null)} />
      <JoinDialog open={dialog === 'join'} onClose={() => setDialog(null)} />
    </div>
  );
}
