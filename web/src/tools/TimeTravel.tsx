// A tool as it was at a moment in the past (read only), from the daemon's time travel.
import { useEffect, useState } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { CalendarEvent, Task, ToolInstance } from '../api/types.ts';
import { dateTimeOf } from '../lib/format.ts';
import { STATUS_LABEL } from './task-status.ts';

type Then = { kind: 'notes'; markdown: string } | { kind: 'tasks'; tasks: Task[] } | { kind: 'calendar'; events: CalendarEvent[] };

export function TimeTravel({ ws, tool, at, onClose }: { ws: string; tool: ToolInstance; at: number; onClose: () => void }) {
  const [then, setThen] = useState<Then | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setThen(null);
    setError(null);
    const load = async (): Promise<Then> => {
      if (tool.type === 'notes') return { kind: 'notes', markdown: (await api.noteMarkdown(ws, tool.id, at)).markdown };
      if (tool.type === 'tasks') return { kind: 'tasks', tasks: await api.tasks(ws, tool.id, at) };
      return { kind: 'calendar', events: await api.events(ws, tool.id, at) };
    };
    load().then(setThen, (err: unknown) => setError(errorText(err)));
  }, [ws, tool, at]);

  return (
    <section className="time-travel card" aria-label={`${tool.name} as of ${dateTimeOf(at)}`}>
      <header className="row spread">
        <h3 className="subheading">{tool.name} <span className="muted small">as of {dateTimeOf(at)}</span></h3>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>×</button>
      </header>
      {error && <p className="error" role="alert">{error}</p>}
      {then === null && !error && <p className="muted small">Loading…</p>}
      {then?.kind === 'notes' && <pre className="markdown-then">{then.markdown || '(empty)'}</pre>}
      {then?.kind === 'tasks' && (
        <ul className="then-list">
          {then.tasks.map((t) => <li key={t.id}><span className={`tag tag-${t.status}`}>{STATUS_LABEL[t.status]}</span> {t.title}</li>)}
          {then.tasks.length === 0 && <li className="muted small">No tasks then.</li>}
        </ul>
      )}
      {then?.kind === 'calendar' && (
        <ul className="then-list">
          {then.events.map((e) => <li key={e.id}>{dateTimeOf(Date.parse(e.start))} — {e.title}</li>)}
          {then.events.length === 0 && <li className="muted small">No events then.</li>}
        </ul>
      )}
    </section>
  );
}
