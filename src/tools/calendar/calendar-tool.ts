// Calendar: meetings and other events, with iCalendar (.ics) export and import.
//
// Document shape (one Yjs document per calendar):
//   Y.Map 'events': event id (16 hex) → Y.Map {
//     title: string, start: ISO 8601 UTC ('2026-05-04T14:00:00Z'), end: same (≥ start),
//     place: string, attendees: member keys (hex) as one array value, agenda: string (multiline),
//     createdBy: key hex }
//
// Fields merge one by one (two members changing different fields offline both keep theirs); the
// attendee list is one value, so concurrent changes to it resolve to one of them everywhere.
// Export writes UID `<id>@trellis`, and import upserts by UID (ids of events from other
// calendars are derived from their UID), so exporting and importing again changes nothing and an
// import into another workspace keeps every field, ids included.
import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { z } from 'zod';
import { TrellisError } from '../../core/errors.ts';
import { findItemId, isItemId, newItemId } from '../common/ids.ts';
import { memberNames, resolveMember } from '../common/members.ts';
import { cleanText, str } from '../common/text.ts';
import { atParam, canonicalTime, parseTime, utcString } from '../common/time.ts';
import { MAX_UPDATE_BYTES } from '../common/update-size.ts';
import type { DocAccess } from '../doc-access.ts';
import { addToolInstance } from '../registry/tool-list.ts';
import { toolRoute, type Tool } from '../tool.ts';
import { calendarInfo } from './calendar-cli.ts';
import { CALENDAR_TYPE, MAX_ICS_BYTES, type CalendarEvent, type EventFields, type ImportResult } from './event.ts';
import { readCalendar, writeCalendar, type VEvent } from './ics.ts';

const TITLE = { max: 500 };
const PLACE = { max: 500, optional: true };
const AGENDA = { max: 64 * 1024, optional: true, multiline: true };
const MAX_ATTENDEES = 200;
const EVENT_HINT = '`trellis calendar list WS TOOL`';
const KEY_URN = 'urn:trellis:key:';

export interface EventInput { title: string; start: string; end: string; place?: string; attendees?: string[]; agenda?: string }
export interface EventChange { title?: string; start?: string; end?: string; place?: string; attendees?: string[]; agenda?: string }

const eventsOf = (doc: Y.Doc) => doc.getMap<unknown>('events');

function readFields(m: Y.Map<unknown>): EventFields {
  const attendees = m.get('attendees');
  return {
    title: str(m.get('title')),
    start: str(m.get('start')),
    end: str(m.get('end')),
    place: str(m.get('place')),
    attendees: Array.isArray(attendees) ? attendees.filter((a): a is string => typeof a === 'string') : [],
    agenda: str(m.get('agenda')),
    createdBy: str(m.get('createdBy')),
  };
}

/** Events of a document, by start time. */
export function readEvents(doc: Y.Doc, names: Map<string, string> = new Map()): CalendarEvent[] {
  const out: CalendarEvent[] = [];
  for (const [id, v] of eventsOf(doc).entries()) {
    if (!isItemId(id) || !(v instanceof Y.Map)) continue;
    const f = readFields(v);
    out.push({ id, ...f, attendeeNames: f.attendees.map((k) => names.get(k) ?? '') });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1));
}

export function listEvents(access: DocAccess, ws: string, cal: string, at?: number): CalendarEvent[] {
  const doc = at === undefined ? access.doc(ws, cal) : access.docAt(ws, cal, at);
  return readEvents(doc, memberNames(access, ws));
}

function checkSpan(start: string, end: string): void {
  if (parseTime('the end', end) < parseTime('the start', start)) throw new TrellisError('invalid', `the event ends (${end}) before it starts (${start})`);
}

function attendeeKeys(access: DocAccess, ws: string, refs: string[]): string[] {
  if (refs.length > MAX_ATTENDEES) throw new TrellisError('invalid', `at most ${MAX_ATTENDEES} attendees`);
  return [...new Set(refs.map((r) => resolveMember(access, ws, r, 'attendee')))];
}

/** A new event's map (not yet in a document, so nothing to read). */
function newEventMap(f: EventFields): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(f)) m.set(k, v);
  return m;
}

/** Sets the fields that differ, so an unchanged field does not become a change. */
function writeFields(m: Y.Map<unknown>, f: Partial<EventFields>): void {
  for (const [k, v] of Object.entries(f)) {
    const old = m.get(k);
    const same = Array.isArray(v) ? Array.isArray(old) && old.length === v.length && old.every((x, i) => x === v[i]) : old === v;
    if (!same) m.set(k, v);
  }
}

export function addEvent(access: DocAccess, ws: string, cal: string, input: EventInput): CalendarEvent {
  const fields: EventFields = {
    title: cleanText('the title', input.title, TITLE),
    start: canonicalTime('the start', input.start),
    end: canonicalTime('the end', input.end),
    place: cleanText('the place', input.place ?? '', PLACE),
    attendees: attendeeKeys(access, ws, input.attendees ?? []),
    agenda: cleanText('the agenda', input.agenda ?? '', AGENDA),
    createdBy: access.keyHex,
  };
  checkSpan(fields.start, fields.end);
  const id = newItemId();
  access.changeDoc(ws, cal, (d) => { eventsOf(d).set(id, newEventMap(fields)); });
  return listEvents(access, ws, cal).find((e) => e.id === id)!;
}

export function updateEvent(access: DocAccess, ws: string, cal: string, ref: string, change: EventChange): CalendarEvent {
  const map = eventsOf(access.doc(ws, cal));
  const id = findItemId([...map.keys()].filter((k) => map.get(k) instanceof Y.Map), ref, 'event', EVENT_HINT);
  const current = readFields(map.get(id) as Y.Map<unknown>);
  const f: Partial<EventFields> = {};
  if (change.title !== undefined) f.title = cleanText('the title', change.title, TITLE);
  if (change.start !== undefined) f.start = canonicalTime('the start', change.start);
  if (change.end !== undefined) f.end = canonicalTime('the end', change.end);
  if (change.place !== undefined) f.place = cleanText('the place', change.place, PLACE);
  if (change.attendees !== undefined) f.attendees = attendeeKeys(access, ws, change.attendees);
  if (change.agenda !== undefined) f.agenda = cleanText('the agenda', change.agenda, AGENDA);
  if (Object.keys(f).length === 0) throw new TrellisError('invalid', 'nothing to change: give --title, --start, --end, --place, --attendee or --agenda');
  checkSpan(f.start ?? current.start, f.end ?? current.end);
  access.changeDoc(ws, cal, (d) => writeFields(eventsOf(d).get(id) as Y.Map<unknown>, f));
  return listEvents(access, ws, cal).find((e) => e.id === id)!;
}

// ---- iCalendar ----

export function exportCalendar(access: DocAccess, ws: string, cal: string, now: number = Date.now()): string {
  const events: VEvent[] = listEvents(access, ws, cal).map((e) => ({
    uid: `${e.id}@trellis`,
    start: Date.parse(e.start) || 0,
    end: Date.parse(e.end) || 0,
    summary: e.title,
    location: e.place,
    description: e.agenda,
    organizer: { cn: memberNames(access, ws).get(e.createdBy) ?? '', address: KEY_URN + e.createdBy },
    attendees: e.attendees.map((k, i) => ({ cn: e.attendeeNames[i], address: KEY_URN + k })),
  }));
  return writeCalendar(events, now);
}

/** Adds or updates (by UID) the events of an iCalendar text. */
export function importCalendar(access: DocAccess, ws: string, cal: string, ics: string): ImportResult {
  const bytes = Buffer.byteLength(ics, 'utf8');
  if (bytes > MAX_ICS_BYTES) throw new TrellisError('invalid', `the iCalendar file is ${bytes} bytes; the limit is ${MAX_ICS_BYTES}`);
  const members = access.memberList(ws);
  const byName = new Map<string, string[]>();
  for (const m of members) byName.set(m.name, [...(byName.get(m.name) ?? []), m.key]);
  const keyOf = (a: { cn: string; address: string }): string | undefined => {
    const urn = a.address.toLowerCase();
    if (urn.startsWith(KEY_URN) && /^[0-9a-f]{64}$/.test(urn.slice(KEY_URN.length))) return urn.slice(KEY_URN.length);
    // Another calendar's attendee: kept if exactly one member has that name.
    const keys = byName.get(a.cn);
    return keys?.length === 1 ? keys[0] : undefined;
  };
  const incoming = readCalendar(ics).map((v): [string, EventFields] => [idFor(v.uid), {
    title: oneLine(v.summary, TITLE.max) || '(untitled)',
    start: utcString(Math.floor(v.start / 1000) * 1000),
    end: utcString(Math.floor(v.end / 1000) * 1000),
    place: oneLine(v.location, PLACE.max),
    attendees: [...new Set(v.attendees.map(keyOf).filter((k): k is string => k !== undefined))].slice(0, MAX_ATTENDEES),
    agenda: multiline(v.description, AGENDA.max),
    createdBy: (v.organizer && v.organizer.address.toLowerCase().startsWith(KEY_URN) ? keyOf(v.organizer) : undefined) ?? access.keyHex,
  }]);
  const result: ImportResult = { created: 0, updated: 0, unchanged: 0 };
  const existing = eventsOf(access.doc(ws, cal));
  const work: [string, EventFields][] = [];
  for (const [id, f] of incoming) {
    const old = existing.get(id);
    if (!(old instanceof Y.Map)) { result.created++; work.push([id, f]); continue; }
    const o = readFields(old);
    const same = (Object.keys(f) as (keyof EventFields)[]).every((k) => JSON.stringify(o[k]) === JSON.stringify(f[k]));
    if (same) result.unchanged++;
    else { result.updated++; work.push([id, f]); }
  }
  // Several changes if needed, each well within one entry.
  let batch: [string, EventFields][] = [];
  let size = 0;
  const flush = () => {
    const b = batch;
    if (b.length === 0) return;
    access.changeDoc(ws, cal, (d) => {
      const events = eventsOf(d);
      for (const [id, f] of b) {
        const old = events.get(id);
        if (old instanceof Y.Map) writeFields(old as Y.Map<unknown>, f);
        else events.set(id, newEventMap(f));
      }
    });
    batch = [];
    size = 0;
  };
  for (const w of work) {
    const n = Buffer.byteLength(JSON.stringify(w), 'utf8') + 200;
    if (size + n > MAX_UPDATE_BYTES / 2) flush();
    batch.push(w);
    size += n;
  }
  flush();
  return result;
}

/** Our own UIDs keep their id; others map to a stable id, so importing again updates. */
function idFor(uid: string): string {
  const m = /^([0-9a-f]{16})@trellis$/.exec(uid);
  if (m) return m[1];
  return createHash('sha256').update(uid === '' ? newItemId() : uid).digest('hex').slice(0, 16);
}

// Text from other calendars is made to fit the rules events follow here.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
function oneLine(s: string, max: number): string {
  return s.replace(CONTROLS, '').replace(/[\r\n\t]+/g, ' ').trim().slice(0, max);
}
function multiline(s: string, max: number): string {
  return s.replace(/\r\n?/g, '\n').replace(CONTROLS, '').slice(0, max);
}

// ---- API ----

const opt = z.string().optional();
const AddBody = z.object({ title: z.string(), start: z.string(), end: z.string(), place: opt, attendees: z.array(z.string()).max(MAX_ATTENDEES).optional(), agenda: opt });
const SetBody = z.object({ title: opt, start: opt, end: opt, place: opt, attendees: z.array(z.string()).max(MAX_ATTENDEES).optional(), agenda: opt });
const IcsBody = z.object({ ics: z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_ICS_BYTES, `must be at most ${MAX_ICS_BYTES} bytes`) });

const routes = [
  toolRoute({
    method: 'GET',
    path: '/events',
    handle: ({ access, ws, instance, query }) => listEvents(access, ws, instance.id, atParam(query)),
  }),
  toolRoute({
    method: 'POST',
    path: '/events',
    body: AddBody,
    status: 201,
    handle: ({ access, ws, instance, body }) => addEvent(access, ws, instance.id, body),
  }),
  toolRoute({
    method: 'POST',
    path: '/events/:event',
    body: SetBody,
    handle: ({ access, ws, instance, params, body }) => updateEvent(access, ws, instance.id, params.event, body),
  }),
  toolRoute({
    method: 'GET',
    path: '/ics',
    handle: ({ access, ws, instance }) => ({ ics: exportCalendar(access, ws, instance.id) }),
  }),
  toolRoute({
    method: 'POST',
    path: '/ics',
    body: IcsBody,
    handle: ({ access, ws, instance, body }) => importCalendar(access, ws, instance.id, body.ics),
  }),
];

export const calendarTool: Tool = {
  ...calendarInfo,
  create: (access, ws, name) => addToolInstance(access, ws, CALENDAR_TYPE, name),
  routes,
};
