// Writing results: stable JSON for scripts, aligned plain text for people. Text that came from
// other members (names, chat) is shown with control characters neutralised, so a message cannot
// drive the terminal (escape sequences) or disguise itself (bidirectional overrides).
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function printLine(line: string = ''): void {
  process.stdout.write(line + '\n');
}

// C0 controls except tab and newline, DEL, C1 controls, and the bidirectional embedding/override/isolate marks.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function safe(text: string): string {
  return text.replace(UNSAFE, '\uFFFD');
}

/** One line of safe text: newlines and tabs become spaces. */
export function safeLine(text: string): string {
  return safe(text).replace(/[\r\n\t]+/g, ' ');
}

/** Columns padded to the widest cell; the last column is not padded. */
export function printTable(rows: string[][], header?: string[]): void {
  const all = header === undefined ? rows : [header, ...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) {
    printLine(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
  }
}

/** Local date and time to the minute, e.g. 2026-05-04 14:03. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
