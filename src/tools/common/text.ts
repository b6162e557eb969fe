// Checks for texts that people type into tools (titles, comments, places, agendas). They reach
// every member's screen, so control characters are refused; sizes are bounded so one change stays
// well inside one entry (256 KiB).
import { TrellisError } from '../../core/errors.ts';

export interface TextRule {
  /** Longest text, in characters (UTF-16 code units, as JavaScript counts). */
  max: number;
  /** May it be empty (after trimming)? */
  optional?: boolean;
  /** May it span lines (newlines and tabs allowed)? */
  multiline?: boolean;
}

const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Why `value` breaks `rule`, or undefined. `label` names the field in the message ("the title"). */
export function refuseText(label: string, value: unknown, rule: TextRule): string | undefined {
  if (typeof value !== 'string') return `${label} must be a text`;
  const t = normaliseNewlines(value);
  if (!rule.optional && t.trim() === '') return `${label} must not be empty`;
  if (t.length > rule.max) return `${label} is ${t.length} characters long; the limit is ${rule.max}`;
  if ((rule.multiline ? CONTROL_MULTILINE : CONTROL_ONE_LINE).test(t)) {
    return `${label} must not contain control characters${rule.multiline ? '' : ' or line breaks'}`;
  }
  return undefined;
}

/** The text, checked (TrellisError 'invalid' otherwise); one-line texts are trimmed, newlines become \n. */
export function cleanText(label: string, value: unknown, rule: TextRule): string {
  const why = refuseText(label, value, rule);
  if (why) throw new TrellisError('invalid', why);
  const t = normaliseNewlines(value as string);
  return rule.multiline ? t : t.trim();
}

function normaliseNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

/** A string field of a document value, or '' when a member wrote something else there. */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A number field of a document value, or 0. */
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
