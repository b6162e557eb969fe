// Durations on the command line: a whole number and a unit, e.g. 90s, 30m, 12h, 7d, 2w.
import { CliError, EXIT_USAGE } from './cli-error.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_MS = 365 * 86_400_000;

/** Milliseconds; CliError (exit 1) for anything malformed, zero, or above 365 days. `what` names the option. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d{1,9})\s*([smhdw])\s*$/i.exec(text);
  if (!m) throw new CliError(EXIT_USAGE, `${what} "${text}" is not a duration: use a number and a unit, e.g. 30m, 12h or 7d`);
  const ms = Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
  if (ms <= 0) throw new CliError(EXIT_USAGE, `${what} must be longer than zero, e.g. 7d`);
  if (ms > MAX_MS) throw new CliError(EXIT_USAGE, `${what} must be at most 365 days`);
  return ms;
}
