// Every version of one file, with download and restore.
import { useEffect, useState } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { VersionInfo } from '../api/types.ts';
import { Dialog } from '../components/Dialog.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { dateTimeOf, sizeOf } from '../lib/format.ts';

interface Props { ws: string; name: string; canWrite: boolean; downloadable: boolean; onClose: () => void; onChanged: () => void }

export function FileVersions({ ws, name, canWrite, downloadable, onClose, onChanged }: Props) {
  const notify = useNotify();
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api.fileVersions(ws, name).then(setVersions, (err: unknown) => setError(errorText(err)));
  useEffect(() => { void load(); }, [ws, name]); // the list of one file

  async function restore(v: VersionInfo) {
    try { await api.restoreFile(ws, name, v.version); notify(`Restored version ${v.version} of ${name}`); onChanged(); void load(); } catch (err) { notify(errorText(err), 'error'); }
  }

  return (
    <Dialog title={`Versions of ${name}`} open onClose={onClose} wide>
      {error && <p className="error" role="alert">{error}</p>}
      <ol className="versions">
        {versions?.slice().reverse().map((v) => (
          <li key={v.id} className="version">
            <span><strong>v{v.version}</strong>{v.deleted ? ' (deleted)' : ''}{v.restoredFrom ? ` (restored from v${v.restoredFrom})` : ''}</span>
            <span className="muted small">{v.deleted ? '' : sizeOf(v.size)} · {v.authorName || 'unknown'} · {dateTimeOf(v.time)}</span>
            <span className="row">
              {!v.deleted && downloadable && <a className="button small" href={api.downloadPath(ws, name, v.version)} download={name.split('/').pop()}>Download</a>}
              {!v.deleted && canWrite && <button type="button" className="button subtle small" onClick={() => void restore(v)}>Restore</button>}
            </span>
          </li>
        ))}
        {versions === null && !error && <li className="muted small">Loading…</li>}
      </ol>
    </Dialog>
  );
}
