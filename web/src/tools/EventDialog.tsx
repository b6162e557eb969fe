// Create or edit a calendar event: title, local date and times, place, attendees, agenda.
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { CalendarEvent, MemberInfo } from '../api/types.ts';
import { Dialog } from '../components/Dialog.tsx';
import { dateKey, isoFromLocal, timeKey } from '../lib/dates.ts';

interface Props {
  ws: string;
  tool: string;
  members: MemberInfo[];
  canWrite: boolean;
  event?: CalendarEvent;
  day?: Date;
  onClose: () => void;
  onSaved: () => void;
}

export function EventDialog({ ws, tool, members, canWrite, event, day, onClose, onSaved }: Props) {
  const start = event ? new Date(event.start) : new Date((day ?? new Date()).setHours(10, 0, 0, 0));
  const end = event ? new Date(event.end) : new Date(start.getTime() + 3600_000);
  const [title, setTitle] = useState(event?.title ?? '');
  const [date, setDate] = useState(dateKey(start));
  const [from, setFrom] = useState(timeKey(start));
  const [endDate, setEndDate] = useState(dateKey(end));
  const [to, setTo] = useState(timeKey(end));
  const [place, setPlace] = useState(event?.place ?? '');
  const [agenda, setAgenda] = useState(event?.agenda ?? '');
  const [attendees, setAttendees] = useState<string[]>(event?.attendees ?? []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const fields = { title: title.trim(), start: isoFromLocal(date, from), end: isoFromLocal(endDate, to), place: place.trim(), agenda, attendees };
    try {
      if (event) await api.updateEvent(ws, tool, event.id, fields);
      else await api.addEvent(ws, tool, fields);
      onSaved();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  const ro = !canWrite;
  return (
    <Dialog title={event ? (ro ? event.title : 'Edit event') : 'New event'} open onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <label className="field"><span>Title</span>
          <input required autoFocus={!ro} readOnly={ro} maxLength={500} value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <div className="row wrap">
          <label className="field"><span>Starts</span><input type="date" required readOnly={ro} value={date} onChange={(e) => { setDate(e.target.value); if (endDate < e.target.value) setEndDate(e.target.value); }} /></label>
          <label className="field"><span>at</span><input type="time" required readOnly={ro} value={from} onChange={(e) => setFrom(e.target.value)} /></label>
          <label className="field"><span>Ends</span><input type="date" required readOnly={ro} value={endDate} onChange={(e) => setEndDate(e.target.value)} /></label>
          <label className="field"><span>at</span><input type="time" required readOnly={ro} value={to} onChange={(e) => setTo(e.target.value)} /></label>
        </div>
        <label className="field"><span>Place</span><input readOnly={ro} maxLength={500} value={place} onChange={(e) => setPlace(e.target.value)} placeholder="Room, address or link" /></label>
        <fieldset className="attendees">
          <legend>Attendees</legend>
          {members.map((m) => (
            <label key={m.key} className="check">
              <input type="checkbox" disabled={ro} checked={attendees.includes(m.key)}
                onChange={(e) => setAttendees((a) => (e.target.checked ? [...a, m.key] : a.filter((k) => k !== m.key)))} />
              {m.name}
            </label>
          ))}
        </fieldset>
        <label className="field"><span>Agenda</span><textarea rows={4} readOnly={ro} value={agenda} onChange={(e) => setAgenda(e.target.value)} /></label>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>{ro ? 'Close' : 'Cancel'}</button>
          {!ro && <button type="submit" className="button primary" disabled={busy || title.trim() === ''}>{busy ? 'Saving…' : 'Save'}</button>}
        </div>
      </form>
    </Dialog>
  );
}
