// Small line icons (24×24, drawn with the current text colour), so tabs and buttons look the same
// on every system: symbol fonts differ, and some lack glyphs altogether.
const PATHS: Record<string, string> = {
  notes: 'M6 3h8l4 4v14H6z M14 3v4h4 M9 12h6 M9 16h6',
  tasks: 'M4 4h16v16H4z M8 12.5l2.5 2.5L16 9.5',
  calendar: 'M4 6h16v14H4z M4 10h16 M8 3v5 M16 3v5',
  discussion: 'M3 5h12v9H8l-4 3v-3H3z M15 9h6v9h-2v3l-4-3h-5v-4',
  files: 'M3 6h6l2 2h10v11H3z',
  history: 'M12 8v4l3 2 M4.5 13a7.5 7.5 0 1 0 2-6.3 M4 4v4h4',
  settings: 'M4 7h9 M17 7h3 M15 5v4 M4 17h3 M11 17h9 M9 15v4 M4 12h12 M20 12h0',
  plus: 'M12 5v14 M5 12h14',
  menu: 'M4 7h16 M4 12h16 M4 17h16',
};

export function Icon({ name, size = 16 }: { name: string; size?: number }) {
  const d = PATHS[name] ?? PATHS.notes;
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={d} fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
