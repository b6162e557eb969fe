// An event as the calendar tool returns it (API, SDK, CLI --json).
export const CALENDAR_TYPE = 'calendar';
/** Largest .ics file imported at once. */
export const MAX_ICS_BYTES = 512 * 1024;

/** An event as stored. */
export interface EventFields {
  title: string;
  start: string;
  end: string;
  place: string;
  attendees: string[];
  agenda: string;
  createdBy: string;
}

export interface CalendarEvent extends EventFields {
  id: string;
  /** Names of the attendees ('' for a key that is not a member here), in the same order. */
  attendeeNames: string[];
}

/** What an import did, event by event (matched by UID). */
export interface ImportResult {
  created: number;
  updated: number;
  unchanged: number;
}
