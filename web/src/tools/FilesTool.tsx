// Files shared in the workspace: every version kept, deletions restorable, transfers with
// progress. Files come in by upload (drag and drop) or from a path on this computer, and go out by
// download or to a path; the daemon encrypts, chunks and fetches them (src/tools/files/).
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { FileInfo, FileProgressEvent } from '../api/types.ts';
import { useCapabilities, usePeerEvents } from '../app/app-state.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { relativeTime, sizeOf } from '../lib/format.ts';
import { FileVersions } from './FileVersions.tsx';
import { upload } from './upload.ts';

interface Transfer { job: string; name: string; op: 'upload' | 'add' | 'get'; done: number; total: number; error?: string }

const newJob = () => `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export function FilesTool({ ws, canWrite }: { ws: string; canWrite: boolean }) {
  const notify = useNotify();
  const [files, setFiles] = useState<FileInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showDeleted, setShowDeleted] = useState(false);
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [dragging, setDragging] = useState(false);
  const [versionsOf, setVersionsOf] = useState<string | null>(null);
  const [savingTo, setSavingTo] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const seq = useRef(0);

  const load = () => {
    const mine = ++seq.current;
    api.files(ws, showDeleted).then((f) => { if (mine === seq.current) { setFiles(f); setError(null); } }, (err: unknown) => { if (mine === seq.current) setError(errorText(err)); });
  };
  useEffect(load, [ws, showDeleted]); // load on open and when the filter changes

  // Upload and download go through routes that only newer daemons have: offer what this one serves.
  const caps = useCapabilities();
  const routes = { upload: caps.has('POST /api/workspaces/:ws/files/upload'), download: caps.has('GET /api/workspaces/:ws/files/download') };

  // The file list is a document whose id the page cannot derive (a keyed hash), so any document
  // change may be one; while others type in a note that is many, hence at most one reload per 500 ms.
  const pending = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(pending.current), []);
  usePeerEvents((e) => {
    if (e.workspace !== ws) return;
    if ((e.type === 'doc' || e.type === 'members') && pending.current === undefined) {
      pending.current = window.setTimeout(() => { pending.current = undefined; load(); }, 500);
    }
    if (e.type === 'file-progress') progress(e);
  });

  function progress(e: FileProgressEvent) {
    setTransfers((ts) => ts.map((t) => (t.job === e.job ? { ...t, done: e.done, total: e.total, op: t.op === 'upload' && e.op === 'add' ? 'add' : t.op } : t)));
  }
  const track = (t: Transfer) => setTransfers((ts) => [...ts, t]);
  const finish = (job: string, err?: string) => {
    if (err) setTransfers((ts) => ts.map((t) => (t.job === job ? { ...t, error: err } : t)));
    else setTransfers((ts) => ts.filter((t) => t.job !== job));
    load();
  };

  async function uploadFiles(list: FileList | File[]) {
    for (const file of Array.from(list)) {
      const job = newJob();
      track({ job, name: file.name, op: 'upload', done: 0, total: file.size });
      try {
        await upload(api.uploadPath(ws, file.name, job), file, (done, total) => setTransfers((ts) => ts.map((t) => (t.job === job && t.op === 'upload' ? { ...t, done, total } : t))));
        finish(job);
        notify(`${file.name} shared`);
      } catch (err) {
        finish(job, errorText(err));
      }
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (routes.upload && canWrite && e.dataTransfer.files.length > 0) void uploadFiles(e.dataTransfer.files);
  }

  if (error && files === null) return <p className="error page-pad" role="alert">{error}</p>;

  return (
    <div className={dragging ? 'files-tool dragging' : 'files-tool'}
      onDragOver={(e) => { if (routes.upload && canWrite && e.dataTransfer.types.includes('Files')) { e.preventDefault(); setDragging(true); } }}
      onDragLeave={(e) => { if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false); }}
      onDrop={onDrop}>
      {canWrite && (
        <div className="files-add">
          {routes.upload && (
            <div className="dropzone">
              <p><strong>Drop files here</strong> to share them, or</p>
              <button type="button" className="button primary" onClick={() => picker.current?.click()}>Choose files…</button>
              <input ref={picker} type="file" multiple hidden aria-label="Files to share" data-testid="file-picker"
                onChange={(e) => { const f = e.target.files; if (f) void uploadFiles(Array.from(f)); e.target.value = ''; }} />
            </div>
          )}
          <AddFromPath ws={ws} open={!routes.upload} onStart={track} onDone={finish} />
        </div>
      )}
      {transfers.length > 0 && (
        <ul className="transfers" aria-label="Transfers">
          {transfers.map((t) => (
            <li key={t.job} className={t.error ? 'transfer failed' : 'transfer'}>
              <span className="transfer-name">{t.op === 'get' ? 'Fetching' : t.op === 'upload' ? 'Uploading' : 'Encrypting'} {t.name}</span>
              <progress max={t.total || 1} value={t.done} aria-label={`${t.name}: ${Math.round((t.done / (t.total || 1)) * 100)}%`} />
              <span className="muted small">{sizeOf(t.done)} / {sizeOf(t.total)}</span>
              {t.error && <span className="error small">{t.error}</span>}
              {t.error && <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => setTransfers((ts) => ts.filter((x) => x.job !== t.job))}>×</button>}
            </li>
          ))}
        </ul>
      )}
      <div className="row spread">
        <h3 className="subheading">{showDeleted ? 'Deleted files' : 'Files'}</h3>
        <label className="check small"><input type="checkbox" checked={showDeleted} onChange={(e) => setShowDeleted(e.target.checked)} /> Show deleted</label>
      </div>
      <table className="files-table">
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col" className="hide-narrow">Version</th><th scope="col" className="hide-narrow">Changed</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr>
        </thead>
        <tbody>
          {files?.filter((f) => showDeleted || !f.deleted).map((f) => (
            <tr key={f.name} data-file={f.name}>
              <td><span className="file-name">{f.name}</span>{!f.local && <span className="tag tag-muted" title="Not on this device yet: fetched from members when you open it">remote</span>}</td>
              <td>{sizeOf(f.size)}</td>
              <td className="hide-narrow">v{f.version}{f.versions > 1 && <span className="muted small"> of {f.versions}</span>}</td>
              <td className="hide-narrow"><span>{f.authorName || 'unknown'}</span> <span className="muted small">{relativeTime(f.time)}</span></td>
              <td className="file-actions">
                {!f.deleted && routes.download && <a className="button small" href={api.downloadPath(ws, f.name)} download={baseName(f.name)}>Download</a>}
                {!f.deleted && <button type="button" className="button subtle small" onClick={() => setSavingTo(savingTo === f.name ? null : f.name)}>Save to…</button>}
                <button type="button" className="button subtle small" onClick={() => setVersionsOf(f.name)}>Versions</button>
                {canWrite && !f.deleted && <button type="button" className="button subtle small danger" onClick={() => void api.removeFile(ws, f.name).then(load, (err: unknown) => notify(errorText(err), 'error'))}>Delete</button>}
              </td>
            </tr>
          ))}
          {files?.length === 0 && <tr><td colSpan={5} className="muted small">{showDeleted ? 'No deleted files.' : 'No files yet.'}</td></tr>}
          {files === null && <tr><td colSpan={5} className="muted small">Loading…</td></tr>}
        </tbody>
      </table>
      {savingTo && <SaveToPath ws={ws} name={savingTo} onStart={track} onDone={(job, err) => { finish(job, err); if (!err) setSavingTo(null); }} />}
      {versionsOf && <FileVersions ws={ws} name={versionsOf} canWrite={canWrite} downloadable={routes.download} onClose={() => setVersionsOf(null)} onChanged={load} />}
    </div>
  );
}

const baseName = (name: string) => name.split('/').pop() ?? name;

/** The daemon runs on this computer, so it can read a file by its path (the CLI's `files add`). */
function AddFromPath({ ws, open, onStart, onDone }: { ws: string; open: boolean; onStart: (t: Transfer) => void; onDone: (job: string, err?: string) => void }) {
  const [path, setPath] = useState('');
  const [as, setAs] = useState('');
  async function submit(e: FormEvent) {
    e.preventDefault();
    const job = newJob();
    onStart({ job, name: as || path.split(/[\\/]/).pop() || path, op: 'add', done: 0, total: 0 });
    try {
      await api.addFileFromPath(ws, path.trim(), as.trim() || undefined, job);
      setPath('');
      setAs('');
      onDone(job);
    } catch (err) {
      onDone(job, errorText(err));
    }
  }
  return (
    <details className="add-path" open={open}>
      <summary>Add a file or folder from a path on this computer</summary>
      <form className="row wrap" onSubmit={submit}>
        <label className="field grow"><span>Path</span><input required className="mono" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/report.pdf" /></label>
        <label className="field"><span>Share as (optional)</span><input value={as} onChange={(e) => setAs(e.target.value)} placeholder="report.pdf" /></label>
        <button type="submit" className="button primary" disabled={path.trim() === ''}>Add</button>
      </form>
    </details>
  );
}

function SaveToPath({ ws, name, onStart, onDone }: { ws: string; name: string; onStart: (t: Transfer) => void; onDone: (job: string, err?: string) => void }) {
  const [dest, setDest] = useState('');
  async function submit(e: FormEvent) {
    e.preventDefault();
    const job = newJob();
    onStart({ job, name, op: 'get', done: 0, total: 0 });
    try {
      await api.getFileToPath(ws, name, dest.trim(), job);
      onDone(job);
    } catch (err) {
      onDone(job, errorText(err));
    }
  }
  return (
    <form className="card save-to row wrap" onSubmit={submit} aria-label={`Save ${name} to a path`}>
      <label className="field grow"><span>Save “{name}” to this path</span><input required autoFocus className="mono" value={dest} onChange={(e) => setDest(e.target.value)} placeholder={`/home/me/Downloads/${baseName(name)}`} /></label>
      <button type="submit" className="button primary" disabled={dest.trim() === ''}>Save</button>
    </form>
  );
}
