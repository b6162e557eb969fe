// The tools of a workspace as tabs (arrow keys move between them, as WAI-ARIA tabs do), then the
// built-in views (files, history, settings), and "add a tool" for managers.
import { useRef, useState, type KeyboardEvent } from 'react';
import { Icon } from '../components/Icon.tsx';
import { navigate } from '../lib/router.ts';
import { AddToolDialog } from './AddToolDialog.tsx';

export interface TabInfo {
  id: string;
  label: string;
  /** A tool type (notes, tasks, …) or a built-in view. */
  type: string;
}

export function fixedTabs(isManager: boolean): TabInfo[] {
  const tabs: TabInfo[] = [
    { id: 'files', label: 'Files', type: 'files' },
    { id: 'history', label: 'History', type: 'history' },
  ];
  if (isManager) tabs.push({ id: 'settings', label: 'Settings', type: 'settings' });
  return tabs;
}


interface Props { ws: string; tabs: TabInfo[]; current: string | undefined; isManager: boolean; onToolAdded: () => Promise<void> }

export function TabBar({ ws, tabs, current, isManager, onToolAdded }: Props) {
  const [adding, setAdding] = useState(false);
  const list = useRef<HTMLDivElement>(null);

  function onKey(e: KeyboardEvent<HTMLDivElement>) {
    const i = tabs.findIndex((t) => t.id === current);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabs.length - 1;
    if (j < 0) return;
    e.preventDefault();
    navigate({ workspace: ws, tab: tabs[j].id });
    window.requestAnimationFrame(() => list.current?.querySelector<HTMLElement>(`#tab-${CSS.escape(tabs[j].id)}`)?.focus());
  }

  return (
    <div className="tabbar">
      <div className="tabs" role="tablist" aria-label="Tools" ref={list} onKeyDown={onKey}>
        {tabs.map((t) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            type="button"
            role="tab"
            className={t.id === current ? 'tab active' : 'tab'}
            aria-selected={t.id === current}
            aria-controls={`panel-${t.id}`}
            tabIndex={t.id === current ? 0 : -1}
            onClick={() => navigate({ workspace: ws, tab: t.id })}
          >
            <span className="tab-icon"><Icon name={t.type} /></span>
            {t.label}
          </button>
        ))}
      </div>
      {isManager && (
        <button type="button" className="button subtle add-tool" onClick={() => setAdding(true)} aria-label="Add tool">
          <Icon name="plus" /><span className="add-tool-text">Add tool</span>
        </button>
      )}
      <AddToolDialog ws={ws} open={adding} onClose={() => setAdding(false)} onAdded={onToolAdded} />
    </div>
  );
}
