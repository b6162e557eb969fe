// Dates and times as tools store them: due dates as YYYY-MM-DD, event times as ISO 8601 UTC to the
// second (2026-05-04T14:00:00Z), and the `at` of time travel as any ISO 8601 time.
import { TrellisError } from '../../core/errors.ts';

/** A calendar date YYYY-MM-DD that exists (no 2026-02-30), or TrellisError. */
export function checkDate(label: string, value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m || !dateExists(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new TrellisError('invalid', `${label} "${value.slice(0, 40)}" is not a date: use YYYY-MM-DD, e.g. 2026-05-04`);
  }
  return value;
}

export function dateExists(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

// Date, then T, hours and minutes, optional seconds and fraction, then Z or an offset.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Ms since 1970 of an ISO 8601 time with a zone (Z or ±hh:mm), or TrellisError. */
export function parseTime(label: string, value: string): number {
  const m = ISO_TIME.exec(typeof value === 'string' ? value.trim() : '');
  const bad = () => new TrellisError('invalid', `${label} "${String(value).slice(0, 40)}" is not a time: use ISO 8601 with a zone, e.g. 2026-05-04T14:00Z or 2026-05-04T16:00+02:00`);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (!dateExists(y, mo, d) || h > 23 || mi > 59 || s > 59) throw bad();
  let ms = Date.UTC(y, mo - 1, d, h, mi, s) + Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  const zone = m[8].toUpperCase();
  if (zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    if (Number(z[2]) > 23 || Number(z[3]) > 59) throw bad();
    ms -= z[1] === '+' ? offset : -offset;
  }
  return ms;
}

/** Canonical stored form: UTC to the second, e.g. 2026-05-04T14:00:00Z. */
export function utcString(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A time given by a user, normalised to the canonical stored form (seconds kept, fraction dropped). */
export function canonicalTime(label: string, value: string): string {
  return utcString(Math.floor(parseTime(label, value) / 1000) * 1000);
}

/** The `at` query parameter of time travel: undefined when absent. */
export function atParam(query: URLSearchParams): number | undefined {
  const at = query.get('at');
  if (at === null || at === '') return undefined;
  return parseTime('the time --at', at);
}
