// Invite someone: choose their role, then share the code (copy, or scan the QR code). Below, the
// invitations issued from this device that can still be used, each with a Revoke button.
import { useEffect, useState } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { InviteInfo, Role } from '../api/types.ts';
import { Dialog } from '../components/Dialog.tsx';
import { QrCode } from '../components/QrCode.tsx';

export function InviteDialog({ ws, name, open, onClose }: { ws: string; name: string; open: boolean; onClose: () => void }) {
  const [role, setRole] = useState<Role>('participant');
  const [code, setCode] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<InviteInfo[]>([]);

  useEffect(() => { if (!open) { setCode(null); setCopied(false); setError(null); } }, [open]);
  useEffect(() => {
    if (!open || code !== null) return;
    let live = true;
    api.invites(ws).then((list) => { if (live) setIssued(list); }, () => { if (live) setIssued([]); });
    return () => { live = false; };
  }, [open, code, ws]);

  async function revoke(id: string) {
    setError(null);
    try {
      const done = await api.revokeInvite(ws, id);
      setIssued((list) => list.map((i) => (i.id === done.id ? done : i)));
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function create() {
    setBusy(true);
    setError(null);
    try {
      setCode((await api.invite(ws, role)).code);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (code === null) return;
    try {
      await navigator.clipboard.writeText(code);
      setCopied(true);
    } catch {
      // No clipboard permission: select the text so Ctrl+C works.
      document.getElementById('invite-code')?.focus();
      (document.getElementById('invite-code') as HTMLTextAreaElement | null)?.select();
    }
  }

  return (
    <Dialog title={`Invite to ${name}`} open={open} onClose={onClose} wide>
      {code === null ? (
        <div className="stack">
          <fieldset className="segmented">
            <legend>Their role</legend>
            {(['participant', 'guest', 'manager'] as const).map((r) => (
              <label key={r} className={role === r ? 'segment selected' : 'segment'}>
                <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} />
                <span>{r}</span>
              </label>
            ))}
          </fieldset>
          <p className="muted small">
            {role === 'guest' ? 'Guests read everything and write in the chat.' : role === 'manager' ? 'Managers can also invite, remove members and change permissions.' : 'Participants write in every tool.'}
            {' '}The code works once and expires in 7 days.
          </p>
          {error && <p className="error" role="alert">{error}</p>}
          <div className="dialog-actions">
            <button type="button" className="button" onClick={onClose}>Cancel</button>
            <button type="button" className="button primary" onClick={() => void create()} disabled={busy}>{busy ? 'Creating…' : 'Create invitation'}</button>
          </div>
          {issued.some((i) => i.state === 'open' || i.state === 'revoked') && (
            <section aria-label="Invitations you issued">
              <h3 className="small">Invitations you issued</h3>
              <ul className="plain-list">
                {issued.filter((i) => i.state === 'open' || i.state === 'revoked').map((i) => (
                  <li key={i.id} className="row">
                    <span className="mono small">{i.id.slice(0, 8)}</span>
                    <span>{i.role}</span>
                    <span className="muted small">{i.state === 'revoked' ? 'revoked' : `expires ${new Date(i.expires).toLocaleDateString()}`}</span>
                    {i.state === 'open' && (
                      <button type="button" className="button small" aria-label={`Revoke invitation ${i.id.slice(0, 8)}`} onClick={() => void revoke(i.id)}>Revoke</button>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      ) : (
        <div className="invite-result">
          <QrCode text={code} label="QR code of the invitation" />
          <div className="stack">
            <label className="field">
              <span>Invitation code</span>
              <textarea id="invite-code" className="mono invite-code" readOnly rows={6} value={code} onFocus={(e) => e.currentTarget.select()} />
            </label>
            <div className="row">
              <button type="button" className="button primary" onClick={() => void copy()}>{copied ? 'Copied ✓' : 'Copy code'}</button>
              <button type="button" className="button" onClick={onClose}>Done</button>
            </div>
            <p className="muted small">Send it over a channel you trust. Your device must be online when they join.</p>
          </div>
        </div>
      )}
    </Dialog>
  );
}
