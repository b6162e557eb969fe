// iCalendar (RFC 5545) for events: a writer and a reader of VCALENDAR files holding VEVENTs with
// UID, DTSTAMP, DTSTART, DTEND (or DURATION), SUMMARY, LOCATION, DESCRIPTION, ATTENDEE and
// ORGANIZER (with CN). Lines are CRLF-terminated and folded at 75 octets without splitting a
// character; TEXT values escape \ ; , and newlines; parameter values are quoted and use RFC 6868
// caret escapes, so names with quotes or newlines survive. The reader also takes what other
// calendars write: folded lines, LF endings, DATE values (all-day), TZID times (converted with the
// platform's time-zone data), floating times (read as UTC); it skips other components (VALARM,
// VTIMEZONE, VTODO) and properties it does not use (RRULE: only the first occurrence is kept).
import { TrellisError } from '../../core/errors.ts';
import { dateExists } from '../common/time.ts';

export interface CalAddress { cn: string; address: string }

export interface VEvent {
  uid: string;
  /** Ms since 1970 (UTC). */
  start: number;
  end: number;
  summary: string;
  location: string;
  description: string;
  attendees: CalAddress[];
  organizer?: CalAddress;
}

const PRODID = '-//Trellis//Trellis calendar//EN';
const MAX_EVENTS = 10_000;

// ---- writing ----

export function writeCalendar(events: VEvent[], now: number = Date.now()): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${PRODID}`, 'CALSCALE:GREGORIAN'];
  for (const e of events) {
    lines.push('BEGIN:VEVENT');
    lines.push(`UID:${escapeText(e.uid)}`);
    lines.push(`DTSTAMP:${icsTime(now)}`);
    lines.push(`DTSTART:${icsTime(e.start)}`);
    lines.push(`DTEND:${icsTime(e.end)}`);
    lines.push(`SUMMARY:${escapeText(e.summary)}`);
    if (e.location !== '') lines.push(`LOCATION:${escapeText(e.location)}`);
    if (e.description !== '') lines.push(`DESCRIPTION:${escapeText(e.description)}`);
    if (e.organizer) lines.push(`ORGANIZER${cn(e.organizer.cn)}:${e.organizer.address}`);
    for (const a of e.attendees) lines.push(`ATTENDEE${cn(a.cn)}:${a.address}`);
    lines.push('END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join('\r\n') + '\r\n';
}

/** 20260504T140000Z */
export function icsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
}

const cn = (name: string) => (name === '' ? '' : `;CN=${paramValue(name)}`);

function paramValue(s: string): string {
  // RFC 6868: ^ → ^^, newline → ^n, " → ^'. Always quoted, so : ; , need nothing more.
  return '"' + s.replace(/\^/g, '^^').replace(/\r\n|\r|\n/g, '^n').replace(/"/g, '^\'') + '"';
}

/** Folds a content line into lines of at most 75 octets, continuation lines starting with a space. */
export function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let bytes = 0;
  for (const ch of line) {
    const n = Buffer.byteLength(ch, 'utf8');
    const limit = parts.length === 0 ? 75 : 74;
    if (bytes + n > limit) {
      parts.push(current);
      current = '';
      bytes = 0;
    }
    current += ch;
    bytes += n;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

// ---- reading ----

interface ContentLine { name: string; params: Map<string, string>; value: string }

/** The VEVENTs of an iCalendar text; TrellisError('invalid') if it is not one. */
export function readCalendar(text: string): VEvent[] {
  const unfolded = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').replace(/\n[ \t]/g, '');
  const lines = unfolded.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0 || !/^BEGIN:VCALENDAR$/i.test(lines[0].trim())) {
    throw new TrellisError('invalid', 'this is not an iCalendar file: it must start with BEGIN:VCALENDAR');
  }
  const events: VEvent[] = [];
  const stack: string[] = [];
  let props: ContentLine[] | undefined;
  lines.forEach((raw, i) => {
    const cl = parseContentLine(raw, i + 1);
    if (cl.name === 'BEGIN') {
      stack.push(cl.value.toUpperCase());
      if (stack.length === 2 && stack[1] === 'VEVENT') props = [];
    } else if (cl.name === 'END') {
      if (stack.pop() !== cl.value.toUpperCase()) throw new TrellisError('invalid', `line ${i + 1} of the iCalendar file closes ${cl.value} which is not open`);
      if (stack.length === 1 && props && cl.value.toUpperCase() === 'VEVENT') {
        if (events.length >= MAX_EVENTS) throw new TrellisError('invalid', `the iCalendar file holds more than ${MAX_EVENTS} events`);
        events.push(toEvent(props, events.length + 1));
        props = undefined;
      }
    } else if (props && stack.length === 2) {
      props.push(cl);
    }
  });
  if (stack.length !== 0) throw new TrellisError('invalid', `the iCalendar file ends inside ${stack[stack.length - 1]}: it is cut short`);
  return events;
}

function parseContentLine(line: string, n: number): ContentLine {
  const bad = (why: string) => new TrellisError('invalid', `line ${n} of the iCalendar file ${why}`);
  const m = /^([A-Za-z0-9-]+)/.exec(line);
  if (!m) throw bad('has no property name');
  const name = m[1].toUpperCase();
  let i = m[1].length;
  const params = new Map<string, string>();
  while (line[i] === ';') {
    const p = /^([A-Za-z0-9-]+)=/.exec(line.slice(i + 1));
    if (!p) throw bad('has a malformed parameter');
    i += 1 + p[0].length;
    const values: string[] = [];
    for (;;) {
      if (line[i] === '"') {
        const close = line.indexOf('"', i + 1);
        if (close < 0) throw bad('has an unterminated quoted parameter');
        values.push(line.slice(i + 1, close));
        i = close + 1;
      } else {
        const v = /^[^";:,]*/.exec(line.slice(i))![0];
        values.push(v);
        i += v.length;
      }
      if (line[i] !== ',') break;
      i++;
    }
    params.set(p[1].toUpperCase(), values.map(caretDecode).join(','));
  }
  if (line[i] !== ':') throw bad('has no ":" before its value');
  return { name, params, value: line.slice(i + 1) };
}

function caretDecode(s: string): string {
  return s.replace(/\^(\^|n|N|')/g, (_m, c: string) => (c === '^' ? '^' : c === '\'' ? '"' : '\n'));
}

export function unescapeText(s: string): string {
  return s.replace(/\\([\\;,nN:])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

function toEvent(props: ContentLine[], n: number): VEvent {
  const get = (name: string) => props.find((p) => p.name === name);
  const uid = get('UID')?.value.trim();
  const what = uid ? `event ${uid.slice(0, 60)}` : `event ${n}`;
  const startLine = get('DTSTART');
  if (!startLine) throw new TrellisError('invalid', `${what} in the iCalendar file has no DTSTART`);
  const start = readTime(startLine, what);
  const endLine = get('DTEND');
  const duration = get('DURATION');
  let end: number;
  if (endLine) end = readTime(endLine, what);
  else if (duration) end = start + readDuration(duration.value, what);
  // RFC 5545 §3.6.1: without DTEND, a DATE event lasts one day, a DATE-TIME event no time.
  else end = isDate(startLine) ? start + 86_400_000 : start;
  const address = (p: ContentLine): CalAddress => ({ cn: p.params.get('CN') ?? '', address: p.value.trim() });
  const organizer = get('ORGANIZER');
  return {
    uid: uid ? unescapeText(uid) : '',
    start,
    end: Math.max(start, end),
    summary: unescapeText(get('SUMMARY')?.value ?? ''),
    location: unescapeText(get('LOCATION')?.value ?? ''),
    description: unescapeText(get('DESCRIPTION')?.value ?? ''),
    attendees: props.filter((p) => p.name === 'ATTENDEE').map(address),
    ...(organizer ? { organizer: address(organizer) } : {}),
  };
}

const isDate = (p: ContentLine) => p.params.get('VALUE')?.toUpperCase() === 'DATE' || /^\d{8}$/.test(p.value.trim());

function readTime(p: ContentLine, what: string): number {
  const v = p.value.trim();
  const bad = () => new TrellisError('invalid', `${what} in the iCalendar file has a malformed ${p.name} "${v.slice(0, 30)}"`);
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/i.exec(v);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (!dateExists(y, mo, d) || h > 23 || mi > 59 || s > 60) throw bad();
  const wall = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  if (m[4] === undefined || m[7] !== undefined) return wall;
  const tz = p.params.get('TZID');
  return tz === undefined ? wall : zonedToUtc(wall, tz.replace(/^\//, ''), what);
}

/** UTC ms of a wall-clock time (given as if it were UTC) in an IANA time zone. */
function zonedToUtc(wall: number, tz: string, what: string): number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  } catch {
    throw new TrellisError('invalid', `${what} in the iCalendar file uses the unknown time zone "${tz.slice(0, 60)}": use UTC or an IANA zone such as Europe/Berlin`);
  }
  const offsetAt = (t: number) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    return asUtc - t;
  };
  // Two rounds settle times next to a daylight-saving change.
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return t;
}

function readDuration(v: string, what: string): number {
  const m = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(v.trim());
  if (!m || v.trim() === 'P' || /T$/i.test(v.trim())) throw new TrellisError('invalid', `${what} in the iCalendar file has a malformed DURATION "${v.slice(0, 30)}"`);
  const [w, d, h, mi, s] = [2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const ms = ((((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000;
  return m[1] === '-' ? -ms : ms;
}
