// Inside a workspace: the header, the tools as tabs, and beside them the members and the chat
// (Groove's workspace window). In a narrow window the side column becomes its own tabs.
import { useEffect, useState } from 'react';
import type { Role } from '../api/types.ts';
import { useApp, usePeerEvents } from '../app/app-state.tsx';
import { navigate } from '../lib/router.ts';
import { ToolPanel } from '../tools/ToolPanel.tsx';
import { ChatPanel } from './ChatPanel.tsx';
import { InviteDialog } from './InviteDialog.tsx';
import { MembersPane } from './MembersPane.tsx';
import { RemovedNotice } from './RemovedNotice.tsx';
import { TabBar, fixedTabs } from './TabBar.tsx';
import { usePresence } from './use-presence.ts';
import { useWorkspace } from './use-workspace.ts';
import { CallBar } from './calls/CallBar.tsx';

type SideView = 'tools' | 'members' | 'chat';

export function WorkspaceView({ id, tab }: { id: string; tab: string | undefined }) {
  const { workspaces } = useApp();
  const info = workspaces.find((w) => w.id === id);
  const removed = info?.role === 'removed';
  const data = useWorkspace(id, info !== undefined && !removed);
  const [inviting, setInviting] = useState(false);
  const [removedNow, setRemovedNow] = useState(false);
  // Narrow windows show one column at a time.
  const [side, setSide] = useState<SideView>('tools');

  usePeerEvents((e) => { if (e.type === 'removed' && e.workspace === id) setRemovedNow(true); });

  const role: Role | undefined = info && info.role !== 'removed' ? info.role : undefined;
  const isManager = role === 'manager';
  const tabs = [...data.tools.map((t) => ({ id: t.id, label: t.name, type: t.type })), ...fixedTabs(isManager)];
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  const presence = usePresence(id, current?.id, !removed && role !== undefined);

  // An unknown tab in the address (a removed tool): show the first one instead.
  useEffect(() => {
    if (data.loaded && tab !== undefined && current !== undefined && current.id !== tab) navigate({ workspace: id, tab: current.id }, true);
  }, [data.loaded, tab, current, id]);

  if (info === undefined) {
    return <div className="page-pad"><p className="muted">{workspaces.length === 0 ? 'Loading…' : 'No such workspace on this device.'}</p></div>;
  }
  if (removed || removedNow) return <RemovedNotice name={info.name} id={id} />;

  return (
    <div className={`workspace side-${side}`}>
      <header className="ws-header">
        <div className="ws-title">
          <h1>{info.name}</h1>
          <span className={`tag tag-${info.role}`}>{info.role}</span>
          <span className="muted small member-count">{info.members} member{info.members === 1 ? '' : 's'}</span>
        </div>
        <div className="ws-actions">
          {isManager && <button type="button" className="button primary" onClick={() => setInviting(true)}>Invite</button>}
        </div>
        <div className="side-switch" role="group" aria-label="Show">
          {(['tools', 'members', 'chat'] as const).map((v) => (
            <button key={v} type="button" className={side === v ? 'chip active' : 'chip'} aria-pressed={side === v} onClick={() => setSide(v)}>
              {v === 'tools' ? 'Tools' : v === 'members' ? 'Members' : 'Chat'}
            </button>
          ))}
        </div>
      </header>
      <CallBar ws={id} members={data.members} />
      <div className="ws-body">
        <section className="ws-center" aria-label="Tools">
          <TabBar ws={id} tabs={tabs} current={current?.id} isManager={isManager} onToolAdded={data.refresh} />
          <div className="tool-area" role="tabpanel" id={`panel-${current?.id ?? 'none'}`} aria-labelledby={current ? `tab-${current.id}` : undefined}>
            {current ? (
              <ToolPanel key={current.id} ws={id} tab={current} role={role!} data={data} onTyping={presence.typing} />
            ) : (
              <p className="muted page-pad">{data.loaded ? 'No tools.' : 'Loading…'}</p>
            )}
          </div>
        </section>
        <aside className="ws-side" aria-label="Members and chat">
          <MembersPane ws={id} members={data.members} tools={data.tools} isManager={isManager} />
          <ChatPanel ws={id} onTyping={presence.typing} canWrite={role !== undefined && (data.permissions?.chat.includes(role) ?? true)} />
        </aside>
      </div>
      <InviteDialog ws={id} name={info.name} open={inviting} onClose={() => setInviting(false)} />
    </div>
  );
}
