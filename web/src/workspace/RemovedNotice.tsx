// We were removed from this workspace (or left it): it no longer syncs, and says so plainly. What
// this device still holds of it can be deleted from here.
import { useState } from 'react';
import { ApiError, errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { useApp } from '../app/app-state.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { navigate } from '../lib/router.ts';

export function RemovedNotice({ name, id }: { name: string; id: string }) {
  const notify = useNotify();
  const { refreshWorkspaces } = useApp();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  /** The daemon's reason it did not delete (no one has our leave yet): then "Delete anyway" is offered. */
  const [notYet, setNotYet] = useState<string | undefined>();

  async function remove(force: boolean) {
    setBusy(true);
    try {
      await api.deleteWorkspace(id, force);
      notify(`“${name}” was deleted from this device`);
      await refreshWorkspaces();
      navigate({});
    } catch (err) {
      if (err instanceof ApiError && err.code === 'conflict' && !force) setNotYet(err.message);
      else notify(errorText(err), 'error');
      setBusy(false);
    }
  }

  return (
    <div className="page-pad">
      <section className="card removed-notice" role="alert" aria-labelledby={`removed-${id}`}>
        <h1 id={`removed-${id}`}>You are no longer a member of “{name}”</h1>
        <p className="muted">
          A manager removed you from this workspace, or you left it. Your device stopped syncing it and
          cannot read anything written there from now on.
        </p>
        {notYet ? (
          <div className="confirm">
            <p className="small">{notYet}</p>
            <div className="row">
              <button type="button" className="button danger" disabled={busy} onClick={() => void remove(true)}>Delete anyway</button>
              <button type="button" className="button" onClick={() => { setNotYet(undefined); setConfirming(false); }}>Keep it for now</button>
            </div>
          </div>
        ) : confirming ? (
          <div className="confirm">
            <p className="small">Delete “{name}” from this device? Its history, keys and files here are removed; the other members keep theirs.</p>
            <div className="row">
              <button type="button" className="button danger" disabled={busy} onClick={() => void remove(false)}>Delete “{name}”</button>
              <button type="button" className="button" onClick={() => setConfirming(false)}>Cancel</button>
            </div>
          </div>
        ) : (
          <div className="row">
            <button type="button" className="button" onClick={() => navigate({})}>Back to my workspaces</button>
            <button type="button" className="button danger subtle" onClick={() => setConfirming(true)}>Delete from this device…</button>
          </div>
        )}
      </section>
    </div>
  );
}
