// Create a workspace: we become its first manager.
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { Dialog } from '../components/Dialog.tsx';
import { navigate } from '../lib/router.ts';
import { useApp } from './app-state.tsx';

export function CreateWorkspaceDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { refreshWorkspaces } = useApp();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { id } = await api.createWorkspace(name.trim());
      await refreshWorkspaces();
      setName('');
      onClose();
      navigate({ workspace: id });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="New workspace" open={open} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>Name</span>
          <input autoFocus required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Product launch" />
        </label>
        <p className="muted small">You will be its manager: you invite people and choose the tools.</p>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button primary" disabled={busy || name.trim() === ''}>{busy ? 'Creating…' : 'Create workspace'}</button>
        </div>
      </form>
    </Dialog>
  );
}
