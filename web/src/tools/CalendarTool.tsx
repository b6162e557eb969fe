// A calendar with month and week views. Events are stored in UTC and shown in local time.
// .ics export and import go through the daemon (the calendar tool's /ics routes).
import { useMemo, useRef, useState } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { CalendarEvent, MemberInfo } from '../api/types.ts';
import { useNotify } from '../components/Toasts.tsx';
import { addDays, onDay, sameDay, startOfWeek, timeKey } from '../lib/dates.ts';
import { EventDialog } from './EventDialog.tsx';
import { useToolData } from './use-tool-data.ts';

type View = 'month' | 'week';
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

interface Props { ws: string; tool: string; members: MemberInfo[]; canWrite: boolean }

export function CalendarTool({ ws, tool, members, canWrite }: Props) {
  const notify = useNotify();
  const { data: events, error, reload } = useToolData(ws, tool, () => api.events(ws, tool));
  const [view, setView] = useState<View>('month');
  const [cursor, setCursor] = useState(() => new Date());
  const [editing, setEditing] = useState<{ event?: CalendarEvent; day?: Date } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const days = useMemo(() => {
    if (view === 'week') return Array.from({ length: 7 }, (_, i) => addDays(startOfWeek(cursor), i));
    const first = startOfWeek(new Date(cursor.getFullYear(), cursor.getMonth(), 1));
    return Array.from({ length: 42 }, (_, i) => addDays(first, i));
  }, [view, cursor]);

  const title = view === 'month'
    ? cursor.toLocaleDateString(undefined, { month: 'long', year: 'numeric' })
    : `${days[0].toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} – ${days[6].toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}`;

  function step(n: number) {
    setCursor((c) => (view === 'month' ? new Date(c.getFullYear(), c.getMonth() + n, 1) : addDays(c, 7 * n)));
  }

  async function exportIcs() {
    try {
      const { ics } = await api.exportIcs(ws, tool);
      const url = URL.createObjectURL(new Blob([ics], { type: 'text/calendar' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'calendar.ics';
      a.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) { notify(errorText(err), 'error'); }
  }

  async function importIcs(file: File) {
    try {
      const r = await api.importIcs(ws, tool, await file.text());
      notify(`Imported: ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged`);
      reload();
    } catch (err) { notify(errorText(err), 'error'); }
  }

  if (error && events === null) return <p className="error page-pad" role="alert">{error}</p>;
  const today = new Date();
  const parsed = (events ?? []).map((e) => ({ e, start: new Date(e.start), end: new Date(e.end) }));

  return (
    <div className="calendar-tool">
      <div className="calendar-toolbar">
        <div className="row">
          <button type="button" className="icon-button" aria-label={view === 'month' ? 'Previous month' : 'Previous week'} onClick={() => step(-1)}>‹</button>
          <button type="button" className="button subtle" onClick={() => setCursor(new Date())}>Today</button>
          <button type="button" className="icon-button" aria-label={view === 'month' ? 'Next month' : 'Next week'} onClick={() => step(1)}>›</button>
          <h3 className="calendar-title" aria-live="polite">{title}</h3>
        </div>
        <div className="row">
          <div className="segmented small" role="group" aria-label="View">
            {(['month', 'week'] as const).map((v) => (
              <button key={v} type="button" className={view === v ? 'segment selected' : 'segment'} aria-pressed={view === v} onClick={() => setView(v)}>{v === 'month' ? 'Month' : 'Week'}</button>
            ))}
          </div>
          {canWrite && <button type="button" className="button primary" onClick={() => setEditing({ day: today })}>New event</button>}
          <button type="button" className="button subtle" onClick={() => void exportIcs()}>Export .ics</button>
          {canWrite && (
            <>
              <button type="button" className="button subtle" onClick={() => fileInput.current?.click()}>Import .ics</button>
              <input ref={fileInput} type="file" accept=".ics,text/calendar" hidden onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importIcs(f); }} />
            </>
          )}
        </div>
      </div>
      <div className={`calendar-grid view-${view}`} role="grid" aria-label={title}>
        <div className="calendar-row weekdays" role="row">
          {WEEKDAYS.map((d, i) => <div key={d} role="columnheader" className="weekday">{view === 'week' ? `${d} ${days[i].getDate()}` : d}</div>)}
        </div>
        {Array.from({ length: days.length / 7 }, (_, w) => (
          <div key={w} className="calendar-row" role="row">
            {days.slice(w * 7, w * 7 + 7).map((d) => {
              const here = parsed.filter((p) => onDay(p.start, p.end, d)).sort((a, b) => a.start.getTime() - b.start.getTime());
              const outside = view === 'month' && d.getMonth() !== cursor.getMonth();
              return (
                <div key={d.toISOString()} role="gridcell" className={`day${outside ? ' outside' : ''}${sameDay(d, today) ? ' today' : ''}`}>
                  <button type="button" className="day-number" disabled={!canWrite}
                    aria-label={`${d.toLocaleDateString(undefined, { dateStyle: 'full' })}${canWrite ? ': new event' : ''}`}
                    onClick={() => setEditing({ day: d })}>{d.getDate()}</button>
                  <ul className="day-events">
                    {here.map(({ e, start }) => (
                      <li key={e.id}>
                        <button type="button" className="event-chip" onClick={() => setEditing({ event: e })} title={e.title}>
                          <span className="event-time">{sameDay(start, d) ? timeKey(start) : '…'}</span> {e.title}
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              );
            })}
          </div>
        ))}
      </div>
      {events === null && <p className="muted small">Loading events…</p>}
      {editing && (
        <EventDialog ws={ws} tool={tool} members={members} canWrite={canWrite} event={editing.event} day={editing.day}
          onClose={() => setEditing(null)} onSaved={() => { setEditing(null); reload(); }} />
      )}
    </div>
  );
}
