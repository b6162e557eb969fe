// Manager settings: who may write what (the permission table, a signed control entry), the tools
// of the workspace, and the audit trail of refused entries. Shown to managers only; the daemon
// refuses these changes from anyone else anyway.
import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { ROLES, type AuditItem, type PermissionTable, type RelayLinkInfo, type Role, type ToolInstance } from '../api/types.ts';
import { useCapabilities, usePeerEvents } from '../app/app-state.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { shortKey } from '../lib/format.ts';

const COLUMNS: { key: keyof PermissionTable; label: string }[] = [
  { key: 'chat', label: 'Chat' },
  { key: 'doc', label: 'Tools (notes, tasks, calendar, discussion, files)' },
];

export function SettingsPanel({ ws, tools }: { ws: string; tools: ToolInstance[] }) {
  return (
    <div className="settings page-pad stack-lg">
      <Permissions ws={ws} />
      <ToolsList ws={ws} tools={tools} />
      {useCapabilities().has('GET /api/workspaces/:ws/relays') && <Relays ws={ws} />}
      <Audit ws={ws} />
    </div>
  );
}

function Permissions({ ws }: { ws: string }) {
  const notify = useNotify();
  const [table, setTable] = useState<PermissionTable | null>(null);
  const [saved, setSaved] = useState<PermissionTable | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () => api.permissions(ws).then((t) => { setTable(t); setSaved(t); }, (err: unknown) => notify(errorText(err), 'error'));
  useEffect(() => { void load(); }, [ws]);
  usePeerEvents((e) => { if (e.workspace === ws && e.type === 'members' && !busy) void load(); });

  function toggle(col: keyof PermissionTable, role: Role) {
    setTable((t) => (t ? { ...t, [col]: t[col].includes(role) ? t[col].filter((r) => r !== role) : [...t[col], role] } : t));
  }

  async function save() {
    if (!table) return;
    setBusy(true);
    try {
      const t = await api.setPermissions(ws, table);
      setTable(t);
      setSaved(t);
      notify('Permissions saved');
    } catch (err) {
      notify(errorText(err), 'error');
    } finally {
      setBusy(false);
    }
  }

  const dirty = JSON.stringify(table) !== JSON.stringify(saved);
  return (
    <section className="card" aria-labelledby={`perm-${ws}`}>
      <h2 id={`perm-${ws}`} className="subheading">Permissions</h2>
      <p className="muted small">Which roles may write. Everyone can read; managers can always manage membership.</p>
      {table === null ? <p className="muted small">Loading…</p> : (
        <table className="perm-table">
          <thead>
            <tr><th scope="col">Role</th>{COLUMNS.map((c) => <th key={c.key} scope="col">{c.label}</th>)}</tr>
          </thead>
          <tbody>
            {ROLES.map((role) => (
              <tr key={role}>
                <th scope="row">{role}</th>
                {COLUMNS.map((c) => (
                  <td key={c.key}>
                    <input type="checkbox" checked={table[c.key].includes(role)} onChange={() => toggle(c.key, role)} aria-label={`${role} may write ${c.label}`} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        <button type="button" className="button primary" disabled={!dirty || busy} onClick={() => void save()}>Save permissions</button>
        {dirty && <button type="button" className="button" onClick={() => setTable(saved)}>Undo</button>}
      </div>
    </section>
  );
}

function ToolsList({ ws, tools }: { ws: string; tools: ToolInstance[] }) {
  const notify = useNotify();
  const [confirm, setConfirm] = useState<string | null>(null);
  async function remove(t: ToolInstance) {
    try { await api.removeTool(ws, t.id); notify(`${t.name} removed`); } catch (err) { notify(errorText(err), 'error'); }
    setConfirm(null);
  }
  return (
    <section className="card" aria-labelledby={`tools-${ws}`}>
      <h2 id={`tools-${ws}`} className="subheading">Tools</h2>
      <ul className="plain-list">
        {tools.map((t) => (
          <li key={t.id} className="row spread">
            <span><strong>{t.name}</strong> <span className="muted small">{t.type}</span></span>
            {confirm === t.id ? (
              <span className="row">
                <button type="button" className="button danger small" onClick={() => void remove(t)}>Remove {t.name}</button>
                <button type="button" className="button small" onClick={() => setConfirm(null)}>Cancel</button>
              </span>
            ) : (
              <button type="button" className="button subtle small" onClick={() => setConfirm(t.id)}>Remove…</button>
            )}
          </li>
        ))}
        {tools.length === 0 && <li className="muted small">No tools yet: use “Add tool” beside the tabs.</li>}
      </ul>
      <p className="muted small">Removing a tool hides it; its history stays in the workspace.</p>
    </section>
  );
}

function Audit({ ws }: { ws: string }) {
  const [items, setItems] = useState<AuditItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api.audit(ws).then(setItems, (err: unknown) => setError(errorText(err)));
  useEffect(() => { void load(); }, [ws]);
  usePeerEvents((e) => { if (e.workspace === ws && e.type === 'rejected') void load(); });
  return (
    <section className="card" aria-labelledby={`audit-${ws}`}>
      <h2 id={`audit-${ws}`} className="subheading">Audit trail</h2>
      <p className="muted small">Entries other peers sent that the membership rules refused. Nothing here is normal.</p>
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="plain-list">
        {items?.map((a) => (
          <li key={`${a.author}:${a.seq}`}><strong>{a.authorName || shortKey(a.author)}</strong> <span className="muted small">#{a.seq}</span> — {a.reason}</li>
        ))}
        {items?.length === 0 && <li className="muted small">No refused entries.</li>}
      </ul>
    </section>
  );
}

/** Relays store and forward the workspace's (encrypted) entries for members who are offline. */
function Relays({ ws }: { ws: string }) {
  const notify = useNotify();
  const [relays, setRelays] = useState<RelayLinkInfo[] | null>(null);
  const [address, setAddress] = useState('');
  const [busy, setBusy] = useState(false);
  const load = () => api.relays(ws).then(setRelays, (err: unknown) => notify(errorText(err), 'error'));
  useEffect(() => { void load(); }, [ws]); // the list of this workspace
  usePeerEvents((e) => { if (e.workspace === ws && e.type === 'members') void load(); });

  async function attach(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      setRelays(await api.addRelay(ws, address.trim()));
      setAddress('');
      notify('Relay attached');
    } catch (err) {
      notify(errorText(err), 'error');
    } finally {
      setBusy(false);
    }
  }

  async function detach(r: RelayLinkInfo) {
    try { await api.removeRelay(ws, r.key); notify('Relay detached'); void load(); } catch (err) { notify(errorText(err), 'error'); }
  }

  return (
    <section className="card" aria-labelledby={`relays-${ws}`}>
      <h2 id={`relays-${ws}`} className="subheading">Relays</h2>
      <p className="muted small">A relay keeps the workspace's encrypted entries for members who are offline, and can read none of them.</p>
      <ul className="plain-list">
        {relays?.map((r) => (
          <li key={r.key} className="row spread">
            <span className="relay">
              <span className={r.connected ? 'presence-dot-inline online' : 'presence-dot-inline'} aria-hidden="true" />
              <span className="mono small" title={r.key}>{shortKey(r.key)}</span>
              <span className="muted small">{r.connected ? 'connected' : 'not connected'}{r.error ? ` · ${r.error.message}` : ''}</span>
            </span>
            <button type="button" className="button subtle small danger" onClick={() => void detach(r)}>Detach</button>
          </li>
        ))}
        {relays?.length === 0 && <li className="muted small">No relay: the workspace syncs only while members are online together.</li>}
      </ul>
      <form className="row" onSubmit={attach}>
        <label className="grow">
          <span className="visually-hidden">Relay address</span>
          <input className="mono" value={address} onChange={(e) => setAddress(e.target.value)} placeholder="/ip4/203.0.113.5/tcp/4001/p2p/12D3KooW…" />
        </label>
        <button type="submit" className="button" disabled={busy || address.trim() === ''}>Attach relay</button>
      </form>
    </section>
  );
}
