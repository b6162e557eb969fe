// Members with their roles and live presence (online / idle / offline, which tool, typing, in a call).
// Managers manage each member from a disclosure on their row; everyone can leave.
import { useState } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { ROLES, type MemberInfo, type Role, type ToolInstance } from '../api/types.ts';
import { useApp } from '../app/app-state.tsx';
import { Avatar } from '../components/Avatar.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { shortKey } from '../lib/format.ts';

const ORDER: Record<string, number> = { online: 0, idle: 1, offline: 2 };

function statusOf(m: MemberInfo): 'online' | 'idle' | 'offline' {
  return m.status ?? (m.online ? 'online' : 'offline');
}

export function MembersPane({ ws, members, tools, isManager }: { ws: string; members: MemberInfo[]; tools: ToolInstance[]; isManager: boolean }) {
  const { myKey } = useApp();
  const sorted = [...members].sort((a, b) =>
    ORDER[statusOf(a)] - ORDER[statusOf(b)] || ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || a.name.localeCompare(b.name));
  const online = members.filter((m) => statusOf(m) !== 'offline').length;

  const where = (m: MemberInfo): string | undefined => {
    if (!m.tool) return undefined;
    const t = tools.find((x) => x.id === m.tool);
    return t ? t.name : ({ files: 'Files', history: 'History', settings: 'Settings' } as Record<string, string>)[m.tool];
  };

  return (
    <section className="members panel" aria-labelledby={`members-${ws}`}>
      <header className="panel-header">
        <h2 id={`members-${ws}`}>Members</h2>
        <span className="muted small">{online} of {members.length} online</span>
      </header>
      <ul className="member-list">
        {sorted.map((m) => (
          <MemberRow key={m.key} ws={ws} member={m} me={m.key === myKey} isManager={isManager} where={where(m)} />
        ))}
      </ul>
      <LeaveButton ws={ws} />
    </section>
  );
}

function MemberRow({ ws, member: m, me, isManager, where }: { ws: string; member: MemberInfo; me: boolean; isManager: boolean; where: string | undefined }) {
  const status = statusOf(m);
  const label = `${m.name}${me ? ' (you)' : ''}, ${m.role}, ${status}${where ? `, in ${where}` : ''}${m.call ? ', in a call' : ''}${m.typing ? ', typing' : ''}`;
  const summary = (
    <>
      <Avatar name={m.name} memberKey={m.key} status={status} size="sm" />
      <span className="member-text">
        <span className="member-name">{m.name}{me && <span className="muted"> (you)</span>}</span>
        <span className="member-activity muted small">
          {m.typing ? <span className="typing">typing…</span> : status === 'offline' ? 'offline' : where ? `in ${where}` : status}
          {status !== 'offline' && m.call && <span className="in-call"> · in a call</span>}
        </span>
      </span>
      <span className={`tag tag-${m.role}`}>{m.role}</span>
    </>
  );
  if (!isManager || me) {
    return <li className="member" aria-label={label} data-member={m.name}><div className="member-summary">{summary}</div></li>;
  }
  return (
    <li className="member" data-member={m.name}>
      <details>
        <summary className="member-summary" aria-label={`${label}: manage`}>{summary}</summary>
        <ManageMember ws={ws} member={m} />
      </details>
    </li>
  );
}

function ManageMember({ ws, member }: { ws: string; member: MemberInfo }) {
  const notify = useNotify();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  async function setRole(role: Role) {
    setBusy(true);
    try {
      await api.setRole(ws, member.key, role);
      notify(`${member.name} is now a ${role}`);
    } catch (err) {
      notify(errorText(err), 'error');
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await api.removeMember(ws, member.key);
      notify(`${member.name} was removed; the workspace key was rotated`);
    } catch (err) {
      notify(errorText(err), 'error');
      setBusy(false);
    }
  }

  return (
    <div className="manage-member">
      <p className="muted small mono" title={member.key}>key {shortKey(member.key)}</p>
      <label className="field inline">
        <span>Role</span>
        <select value={member.role} disabled={busy} onChange={(e) => void setRole(e.target.value as Role)} aria-label={`Role of ${member.name}`}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </label>
      {confirming ? (
        <div className="confirm">
          <p className="small">Remove {member.name}? Their device will not be able to read anything new.</p>
          <div className="row">
            <button type="button" className="button danger" disabled={busy} onClick={() => void remove()}>Remove {member.name}</button>
            <button type="button" className="button" onClick={() => setConfirming(false)}>Cancel</button>
          </div>
        </div>
      ) : (
        <button type="button" className="button danger subtle" onClick={() => setConfirming(true)}>Remove from workspace…</button>
      )}
    </div>
  );
}

function LeaveButton({ ws }: { ws: string }) {
  const notify = useNotify();
  const { refreshWorkspaces } = useApp();
  const [confirming, setConfirming] = useState(false);
  async function leave() {
    try {
      await api.leave(ws);
      await refreshWorkspaces();
    } catch (err) {
      notify(errorText(err), 'error');
    }
  }
  return confirming ? (
    <div className="confirm leave">
      <p className="small">Leave this workspace? You will need a new invitation to come back.</p>
      <div className="row">
        <button type="button" className="button danger" onClick={() => void leave()}>Leave</button>
        <button type="button" className="button" onClick={() => setConfirming(false)}>Cancel</button>
      </div>
    </div>
  ) : (
    <button type="button" className="button subtle leave" onClick={() => setConfirming(true)}>Leave workspace…</button>
  );
}
