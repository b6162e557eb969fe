// Shows the tab's content: a tool instance by its type, or a built-in view.
import { lazy, Suspense } from 'react';
import type { Role } from '../api/types.ts';
import type { TabInfo } from '../workspace/TabBar.tsx';
import type { WorkspaceData } from '../workspace/use-workspace.ts';
import { SettingsPanel } from '../workspace/SettingsPanel.tsx';
import { CalendarTool } from './CalendarTool.tsx';
import { DiscussionTool } from './DiscussionTool.tsx';
import { FilesTool } from './FilesTool.tsx';
import { HistoryView } from './HistoryView.tsx';
import { TasksTool } from './TasksTool.tsx';

// The editor (TipTap, ProseMirror) is most of the code: loaded when a note is first opened.
const NotesTool = lazy(() => import('./NotesTool.tsx').then((m) => ({ default: m.NotesTool })));

interface Props {
  ws: string;
  tab: TabInfo;
  role: Role;
  data: WorkspaceData;
  onTyping: () => void;
}

export function ToolPanel({ ws, tab, role, data, onTyping }: Props) {
  // The daemon refuses what the role may not do anyway; the UI just does not offer it.
  const canWrite = data.permissions?.doc.includes(role) ?? role !== 'guest';
  switch (tab.type) {
    case 'notes': return (
      <Suspense fallback={<p className="muted page-pad">Loading the editor…</p>}>
        <NotesTool ws={ws} note={tab.id} name={tab.label} onTyping={onTyping} />
      </Suspense>
    );
    case 'tasks': return <TasksTool ws={ws} tool={tab.id} members={data.members} canWrite={canWrite} />;
    case 'calendar': return <CalendarTool ws={ws} tool={tab.id} members={data.members} canWrite={canWrite} />;
    case 'discussion': return <DiscussionTool ws={ws} tool={tab.id} canWrite={canWrite} onTyping={onTyping} />;
    case 'files': return <FilesTool ws={ws} canWrite={canWrite} />;
    case 'history': return <HistoryView ws={ws} tools={data.tools} />;
    case 'settings': return <SettingsPanel ws={ws} tools={data.tools} />;
    default: return <p className="muted page-pad">This version of the web UI cannot show “{tab.type}” tools yet; the CLI can.</p>;
  }
}
