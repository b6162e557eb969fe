// The calendar commands of the CLI: `trellis calendar add|set|list|export|import WS TOOL …`.
// Light on purpose (no Yjs, no zod): the CLI loads it on every start.
import type { ToolCli, ToolInfo } from '../tool.ts';
import { CALENDAR_TYPE, MAX_ICS_BYTES, type CalendarEvent, type ImportResult } from './event.ts';

const words = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));
const list = (v: unknown) => (Array.isArray(v) && v.length > 0 ? v as string[] : undefined);

function printEvents(cli: ToolCli, events: CalendarEvent[]): void {
  if (events.length === 0) { cli.print('no events yet: add one with `trellis calendar add WS TOOL TITLE --start ISO --end ISO`'); return; }
  const when = (iso: string) => (Date.parse(iso) ? cli.time(Date.parse(iso)) : iso);
  cli.table(events.map((e) => [
    e.id, when(e.start), when(e.end), e.title, e.place, e.attendees.map((k, i) => e.attendeeNames[i] || k.slice(0, 12)).join(', '),
  ]), ['ID', 'START', 'END', 'TITLE', 'PLACE', 'ATTENDEES']);
}

const eventOptions = [
  { flags: '--place <place>', description: 'where' },
  { flags: '--attendee <member>', description: 'member name or key (repeat for several)', repeatable: true },
  { flags: '--agenda <text>', description: 'agenda or description' },
  { flags: '--json', description: 'print the event as JSON' },
];

export const calendarInfo: ToolInfo = {
  type: CALENDAR_TYPE,
  description: 'calendars: events with time, place, attendees, agenda; .ics export and import',
  commands: [
    {
      name: 'add',
      description: 'add an event',
      args: [{ name: 'title', description: 'the title (several words are joined)', variadic: true }],
      options: [
        { flags: '--start <time>', description: 'ISO 8601 with a zone, e.g. 2026-05-04T14:00Z (required)' },
        { flags: '--end <time>', description: 'ISO 8601 with a zone (required)' },
        ...eventOptions,
      ],
      async run(cli, [title], opts) {
        if (opts.start === undefined || opts.end === undefined) cli.fail('an event needs --start and --end (ISO 8601, e.g. 2026-05-04T14:00Z)');
        const e = await cli.post<CalendarEvent>('/events', { title: words(title), start: opts.start, end: opts.end, place: opts.place, attendees: list(opts.attendee), agenda: opts.agenda });
        if (opts.json) cli.json(e);
        else cli.print(e.id);
      },
    },
    {
      name: 'set',
      description: 'change an event (--attendee replaces the attendee list)',
      args: [{ name: 'event', description: 'event id (or its first characters)' }],
      options: [
        { flags: '--title <title>', description: 'new title' },
        { flags: '--start <time>', description: 'ISO 8601 with a zone' },
        { flags: '--end <time>', description: 'ISO 8601 with a zone' },
        ...eventOptions,
      ],
      async run(cli, [event], opts) {
        const e = await cli.post<CalendarEvent>(`/events/${encodeURIComponent(event as string)}`, {
          title: opts.title, start: opts.start, end: opts.end, place: opts.place, attendees: list(opts.attendee), agenda: opts.agenda,
        });
        if (opts.json) cli.json(e);
      },
    },
    {
      name: 'list',
      description: 'list the events by start time',
      options: [
        { flags: '--at <time>', description: 'as they were at this ISO 8601 time' },
        { flags: '--json', description: 'machine-readable output' },
      ],
      async run(cli, _args, opts) {
        const events = await cli.get<CalendarEvent[]>('/events', { at: opts.at as string | undefined });
        if (opts.json) cli.json(events);
        else printEvents(cli, events);
      },
    },
    {
      name: 'export',
      description: 'write the calendar to an iCalendar (.ics) file',
      args: [{ name: 'file', description: '.ics file to write' }],
      async run(cli, [file]) {
        const { ics } = await cli.get<{ ics: string }>('/ics');
        cli.writeText(file as string, ics);
      },
    },
    {
      name: 'import',
      description: 'add or update the events of an iCalendar (.ics) file',
      args: [{ name: 'file', description: '.ics file to read' }],
      options: [{ flags: '--json', description: 'print {"created","updated","unchanged"} as JSON' }],
      async run(cli, [file], opts) {
        const ics = cli.readText(file as string, MAX_ICS_BYTES);
        const r = await cli.post<ImportResult>('/ics', { ics });
        if (opts.json) cli.json(r);
        else cli.print(`${r.created} added, ${r.updated} updated, ${r.unchanged} unchanged`);
      },
    },
  ],
};
