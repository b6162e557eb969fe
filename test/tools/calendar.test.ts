// Calendar over DocAccess and the iCalendar reader/writer: events, validation, concurrent edits,
// .ics export → import into a fresh workspace keeping every field, files from other calendars,
// and a property test over texts with commas, semicolons, newlines and unicode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addEvent, exportCalendar, importCalendar, listEvents, updateEvent, type EventInput } from '../../src/tools/calendar/calendar-tool.ts';
import { fold, readCalendar, writeCalendar, type VEvent } from '../../src/tools/calendar/ics.ts';
import { createTool } from '../../src/tools/registry/tool-types.ts';
import { memoryWorkspace, sameState, sync, WS } from './memory-access.ts';

const team = () => {
  const [alice, bob] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'participant' });
  const cal = createTool(alice, WS, 'calendar', 'Meetings').id;
  sync(alice, bob);
  return { alice, bob, cal };
};

const fields = ({ attendeeNames: _n, ...e }: ReturnType<typeof listEvents>[number]) => e;

test('add, list and change events; times are stored as UTC', () => {
  const { alice, bob, cal } = team();
  const e = addEvent(alice, WS, cal, {
    title: 'Planning', start: '2026-05-04T16:00+02:00', end: '2026-05-04T15:30:00Z', place: 'Room 1, 2nd floor',
    attendees: ['bob', alice.keyHex, 'bob'], agenda: '1. status\n2. next steps',
  });
  assert.deepEqual(fields(e), {
    id: e.id, title: 'Planning', start: '2026-05-04T14:00:00Z', end: '2026-05-04T15:30:00Z', place: 'Room 1, 2nd floor',
    attendees: [bob.keyHex, alice.keyHex], agenda: '1. status\n2. next steps', createdBy: alice.keyHex,
  });
  assert.deepEqual(e.attendeeNames, ['bob', 'alice']);
  sync(alice, bob);
  const moved = updateEvent(bob, WS, cal, e.id.slice(0, 5), { start: '2026-05-05T09:00Z', end: '2026-05-05T10:00Z', attendees: ['alice'] });
  assert.deepEqual([moved.start, moved.end, moved.attendeeNames], ['2026-05-05T09:00:00Z', '2026-05-05T10:00:00Z', ['alice']]);
  const bad: [EventInput, RegExp][] = [
    [{ title: 'x', start: '2026-05-04T10:00Z', end: '2026-05-04T09:00Z' }, /ends .* before it starts/],
    [{ title: 'x', start: '2026-05-04 10:00', end: '2026-05-04T11:00Z' }, /is not a time: use ISO 8601 with a zone/],
    [{ title: 'x', start: '2026-13-04T10:00Z', end: '2026-05-04T11:00Z' }, /is not a time/],
    [{ title: 'x', start: '2026-05-04T10:00Z', end: '2026-05-04T11:00Z', attendees: ['mallory'] }, /no member named "mallory"/],
    [{ title: '', start: '2026-05-04T10:00Z', end: '2026-05-04T11:00Z' }, /the title must not be empty/],
    [{ title: 'x', start: '2026-05-04T10:00Z', end: '2026-05-04T11:00Z', place: 'a\nb' }, /line breaks/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => addEvent(alice, WS, cal, input), { code: 'invalid', message });
  }
  assert.throws(() => updateEvent(alice, WS, cal, e.id, { end: '2026-05-01T00:00Z' }), { code: 'invalid', message: /before it starts/ });
});

test('concurrent offline edits to one event merge field by field; replicas end identical', () => {
  const { alice, bob, cal } = team();
  const e = addEvent(alice, WS, cal, { title: 'Sync', start: '2026-05-04T10:00Z', end: '2026-05-04T11:00Z' });
  sync(alice, bob);
  updateEvent(alice, WS, cal, e.id, { place: 'Room 2' });
  updateEvent(bob, WS, cal, e.id, { agenda: 'Bob\'s points', title: 'Weekly sync' });
  sync(alice, bob);
  const [a] = listEvents(alice, WS, cal);
  assert.deepEqual(a, listEvents(bob, WS, cal)[0]);
  assert.deepEqual([a.title, a.place, a.agenda], ['Weekly sync', 'Room 2', 'Bob\'s points']);
  assert.ok(sameState(alice.doc(WS, cal), bob.doc(WS, cal)));
});

test('.ics export imports into a fresh workspace with every event intact, and again changes nothing', () => {
  const { alice, cal } = team();
  addEvent(alice, WS, cal, { title: 'Kick-off; all hands, "really"', start: '2026-05-04T14:00Z', end: '2026-05-04T15:00Z', place: 'Café Müller, Straße 1', attendees: ['alice', 'bob'], agenda: 'Line one;\nLine two, with comma\n\\ backslash \\n not a newline\n日本語 🎉' });
  addEvent(alice, WS, cal, { title: 'Long '.repeat(60).trim(), start: '2026-06-01T00:00Z', end: '2026-06-01T00:00Z' });
  const ics = exportCalendar(alice, WS, cal, Date.UTC(2026, 0, 1));
  assert.match(ics, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\n/);
  for (const line of ics.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, `line longer than 75 octets: ${line}`);
  const [carol] = memoryWorkspace({ name: 'carol', role: 'manager' });
  const fresh = createTool(carol, WS, 'calendar', 'Imported').id;
  assert.deepEqual(importCalendar(carol, WS, fresh, ics), { created: 2, updated: 0, unchanged: 0 });
  assert.deepEqual(listEvents(carol, WS, fresh).map(fields), listEvents(alice, WS, cal).map(fields));
  assert.deepEqual(importCalendar(carol, WS, fresh, ics), { created: 0, updated: 0, unchanged: 2 });
  // The same file, but for the names of alice and bob, who are no members here.
  const plain = (s: string) => s.replace(/\r\n /g, '').replace(/;CN="[^"]*"/g, '');
  assert.equal(plain(exportCalendar(carol, WS, fresh, Date.UTC(2026, 0, 1))), plain(ics));
});

test('reads what other calendars write: folding, LF endings, TZID, all-day, DURATION, alarms', () => {
  const ics = [
    'BEGIN:VCALENDAR', 'PRODID:-//Other//EN', 'VERSION:2.0',
    'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'END:VTIMEZONE',
    'BEGIN:VEVENT', 'UID:abc-123@example.com', 'DTSTAMP:20260101T000000Z',
    'DTSTART;TZID=Europe/Berlin:20260704T100000', 'DURATION:PT1H30M',
    'SUMMARY:Summer \\, meeting', 'DESCRIPTION:first line\\nsecond', '  line continues', 'LOCATION:Berlin',
    'ATTENDEE;CN="Bob ^\'B^\' Jr.";ROLE=REQ-PARTICIPANT:mailto:bob@example.com',
    'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT15M', 'END:VALARM',
    'END:VEVENT',
    'BEGIN:VEVENT', 'UID:holiday', 'DTSTART;VALUE=DATE:20261225', 'SUMMARY:Holiday', 'END:VEVENT',
    'END:VCALENDAR', '',
  ].join('\n');
  const [summer, holiday] = readCalendar(ics);
  assert.equal(new Date(summer.start).toISOString(), '2026-07-04T08:00:00.000Z');
  assert.equal(summer.end - summer.start, 90 * 60_000);
  assert.deepEqual([summer.summary, summer.description, summer.location], ['Summer , meeting', 'first line\nsecond line continues', 'Berlin']);
  assert.deepEqual(summer.attendees, [{ cn: 'Bob "B" Jr.', address: 'mailto:bob@example.com' }]);
  assert.deepEqual([new Date(holiday.start).toISOString(), holiday.end - holiday.start], ['2026-12-25T00:00:00.000Z', 86_400_000]);
  // Into a workspace: the attendee is kept when a member has that name; importing twice updates in place.
  const [alice, bob] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'Bob "B" Jr.', role: 'participant' });
  const cal = createTool(alice, WS, 'calendar', 'C').id;
  assert.deepEqual(importCalendar(alice, WS, cal, ics), { created: 2, updated: 0, unchanged: 0 });
  assert.deepEqual(listEvents(alice, WS, cal)[0].attendees, [bob.keyHex]);
  assert.deepEqual(importCalendar(alice, WS, cal, ics.replace('Summer \\, meeting', 'Renamed')), { created: 0, updated: 1, unchanged: 1 });
});

test('malformed iCalendar files are refused with one clear line', () => {
  const wrap = (...lines: string[]) => ['BEGIN:VCALENDAR', ...lines, 'END:VCALENDAR'].join('\r\n');
  for (const [text, message] of [
    ['hello', /not an iCalendar file/],
    [wrap('BEGIN:VEVENT', 'SUMMARY:x', 'END:VEVENT'), /has no DTSTART/],
    [wrap('BEGIN:VEVENT', 'DTSTART:2026-05-04', 'END:VEVENT'), /malformed DTSTART/],
    [wrap('BEGIN:VEVENT', 'DTSTART;TZID=Mars/Base:20260504T100000', 'END:VEVENT'), /unknown time zone "Mars\/Base"/],
    [wrap('BEGIN:VEVENT', 'DTSTART:20260504T100000Z'), /cut short|closes VCALENDAR/],
    [wrap('BEGIN:VEVENT', 'no colon here', 'END:VEVENT'), /line 3 of the iCalendar file has no ":"/],
  ] as const) {
    assert.throws(() => readCalendar(text), (err: Error & { code?: string }) => err.code === 'invalid' && message.test(err.message) && !err.message.includes('\n'), String(text));
  }
});

const FUNNY = [',', ';', '\\', '\n', ':', '"', '^', ' ', 'a', 'Z', '9', 'é', '日', '🎉', '\u00a0', 'ñ', '\t'];
const funny = (n: number) => fc.string({ unit: fc.constantFrom(...FUNNY), maxLength: n });

test('property: event texts with commas, semicolons, newlines and unicode survive write → read', () => {
  const event = fc.record({
    uid: fc.string({ unit: fc.constantFrom('a', '1', '@', '-', ',', ';', '.'), minLength: 1, maxLength: 30 }),
    start: fc.integer({ min: 0, max: 4_000_000_000 }).map((s) => s * 1000),
    length: fc.integer({ min: 0, max: 1_000_000 }).map((s) => s * 1000),
    summary: funny(120), location: funny(40), description: funny(300),
    attendees: fc.array(fc.record({ cn: funny(20), address: fc.constantFrom('urn:trellis:key:' + 'ab'.repeat(32), 'mailto:x@example.org') }), { maxLength: 3 }),
  });
  fc.assert(fc.property(fc.array(event, { maxLength: 4 }), (raw) => {
    const events: VEvent[] = JSON.parse(JSON.stringify(raw.map(({ length, ...e }) => ({ ...e, end: e.start + length }))));
    const text = writeCalendar(events, 0);
    for (const line of text.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75);
    const back = readCalendar(text);
    // Empty LOCATION / DESCRIPTION are left out and read back as ''.
    assert.deepEqual(back, events);
  }), { numRuns: 300 });
});

test('folding never splits a character and unfolds to the original', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (s) => {
    const folded = fold('DESCRIPTION:' + s);
    for (const line of folded.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75);
    assert.equal(folded.replace(/\r\n /g, ''), 'DESCRIPTION:' + s);
  }), { numRuns: 200 });
});
