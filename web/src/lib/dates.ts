// Calendar arithmetic in the viewer's local time (events are stored in UTC).

export function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

export function addDays(d: Date, n: number): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

/** Weeks start on Monday. */
export function startOfWeek(d: Date): Date {
  const day = (d.getDay() + 6) % 7;
  return addDays(startOfDay(d), -day);
}

export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** YYYY-MM-DD of a local date. */
export function dateKey(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** HH:MM of a local time. */
export function timeKey(d: Date): string {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A local date and time from form fields, as the ISO UTC time the API takes. */
export function isoFromLocal(date: string, time: string): string {
  return new Date(`${date}T${time}`).toISOString();
}

/** Whether an event [start, end] touches the local day d. */
export function onDay(start: Date, end: Date, d: Date): boolean {
  const from = startOfDay(d).getTime();
  const to = addDays(d, 1).getTime();
  return start.getTime() < to && Math.max(end.getTime(), start.getTime() + 1) > from;
}
