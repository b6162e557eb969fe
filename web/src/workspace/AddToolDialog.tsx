// Managers add a tool instance (a note, a task board, a calendar, a discussion board).
import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { ToolType } from '../api/types.ts';
import { Dialog } from '../components/Dialog.tsx';
import { navigate } from '../lib/router.ts';

const SUGGESTED: Record<string, string> = { notes: 'Notes', tasks: 'Tasks', calendar: 'Calendar', discussion: 'Discussion' };
const LABEL: Record<string, string> = { notes: 'Notes', tasks: 'Task board', calendar: 'Calendar', discussion: 'Discussion' };

export function AddToolDialog({ ws, open, onClose, onAdded }: { ws: string; open: boolean; onClose: () => void; onAdded: () => Promise<void> }) {
  const [types, setTypes] = useState<ToolType[]>([]);
  const [type, setType] = useState('notes');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    setError(null);
    api.toolTypes().then(setTypes, (err: unknown) => setError(errorText(err)));
  }, [open]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const tool = await api.addTool(ws, type, name.trim() || SUGGESTED[type] || type);
      // The tab exists once the tool list is re-read: only then can it be opened.
      await onAdded();
      setName('');
      onClose();
      navigate({ workspace: ws, tab: tool.id });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="Add a tool" open={open} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <fieldset className="tool-types">
          <legend>Kind</legend>
          {types.map((t) => (
            <label key={t.type} className={type === t.type ? 'tool-type selected' : 'tool-type'}>
              <input type="radio" name="type" value={t.type} checked={type === t.type} onChange={() => setType(t.type)} />
              <span className="tool-type-name">{LABEL[t.type] ?? t.type}</span>
              <span className="muted small">{t.description}</span>
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>Name</span>
          <input maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder={SUGGESTED[type] ?? 'Name'} />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button primary" disabled={busy || types.length === 0}>{busy ? 'Adding…' : 'Add tool'}</button>
        </div>
      </form>
    </Dialog>
  );
}
