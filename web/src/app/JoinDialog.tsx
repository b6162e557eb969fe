// Join a workspace by pasting the invitation code someone sent.
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { Dialog } from '../components/Dialog.tsx';
import { navigate } from '../lib/router.ts';
import { useApp, useCapabilities } from './app-state.tsx';

export function JoinDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { refreshWorkspaces } = useApp();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [queued, setQueued] = useState(false);
  // With relays, a join can wait at a relay while the inviter is offline.
  const canQueue = useCapabilities().has('POST /api/joins');

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Answers once the history has synced from the inviter: this can take a moment.
      const { id, pending } = canQueue ? await api.joinQueued(code.trim()) : { ...(await api.join(code.trim())), pending: false };
      if (pending) { setQueued(true); setCode(''); return; }
      await refreshWorkspaces();
      setCode('');
      onClose();
      navigate({ workspace: id });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="Join a workspace" open={open} onClose={() => { setQueued(false); onClose(); }}>
      {queued ? (
        <div className="stack">
          <p>The person who invited you is offline. Your request waits at one of the workspace's relays; the workspace appears here as soon as their device accepts it.</p>
          <div className="dialog-actions"><button type="button" className="button primary" onClick={() => { setQueued(false); onClose(); }}>OK</button></div>
        </div>
      ) : (
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>Invitation code</span>
          <textarea
            autoFocus
            required
            rows={4}
            spellCheck={false}
            className="mono"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            placeholder="trellis1-…"
          />
        </label>
        <p className="muted small">{canQueue
          ? 'Your device fetches the workspace from the person who invited you; if they are offline, the request waits at a relay.'
          : 'The person who invited you must be online: your device fetches the workspace from theirs.'}</p>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button primary" disabled={busy || code.trim() === ''}>{busy ? 'Joining and syncing…' : 'Join'}</button>
        </div>
      </form>
      )}
    </Dialog>
  );
}
