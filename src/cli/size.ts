// Sizes on the command line: a number and an optional unit, e.g. 500MB, 2GiB, 1048576.
// KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024; no unit means bytes.
import { CliError, EXIT_USAGE } from './cli-error.ts';

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** Bytes; CliError (exit 1) for anything malformed, zero or beyond 2^53. `what` names the option. */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d{1,15}(?:\.\d{1,6})?)\s*([a-z]{0,3})\s*$/i.exec(text);
  const unit = m ? (m[2] === '' ? 1 : UNITS[m[2].toLowerCase()]) : undefined;
  if (!m || unit === undefined) throw new CliError(EXIT_USAGE, `${what} "${text}" is not a size: use a number and a unit, e.g. 500MB or 2GiB`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) throw new CliError(EXIT_USAGE, `${what} must be at least 1 byte`);
  if (!Number.isSafeInteger(bytes)) throw new CliError(EXIT_USAGE, `${what} is too large`);
  return bytes;
}
