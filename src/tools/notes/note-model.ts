// A note's content as plain data: the subset of the ProseMirror/TipTap document model that notes
// convert to and from Markdown. note-yjs.ts maps it onto the Y.XmlFragment editors bind to;
// markdown-read.ts and markdown-write.ts map it onto Markdown.

export type MarkType = 'link' | 'bold' | 'italic' | 'code';

export type Mark =
  | { type: 'bold' }
  | { type: 'italic' }
  | { type: 'code' }
  | { type: 'link'; href: string };

/** A run of text with its marks, in MARK_ORDER, each type at most once. */
export interface TextRun {
  text: string;
  marks: Mark[];
}

export type Block =
  | { type: 'paragraph'; content: TextRun[] }
  | { type: 'heading'; level: number; content: TextRun[] }
  | { type: 'codeBlock'; language: string | null; text: string }
  | { type: 'blockquote'; content: Block[] }
  | { type: 'bulletList'; items: Block[][] }
  | { type: 'orderedList'; start: number; items: Block[][] }
  | { type: 'horizontalRule' };

/**
 * Marks nest in this order in Markdown (a link outside, inline code inside), and runs list them in
 * this order, so two runs with the same marks compare equal.
 */
export const MARK_ORDER: readonly MarkType[] = ['link', 'bold', 'italic', 'code'];

export function sortMarks(marks: Mark[]): Mark[] {
  return [...marks].sort((a, b) => MARK_ORDER.indexOf(a.type) - MARK_ORDER.indexOf(b.type));
}

export function sameMark(a: Mark, b: Mark): boolean {
  return a.type === b.type && (a.type !== 'link' || a.href === (b as { href: string }).href);
}

export function sameMarks(a: Mark[], b: Mark[]): boolean {
  return a.length === b.length && a.every((m, i) => sameMark(m, b[i]));
}

/** Joins neighbouring runs with the same marks and drops empty runs. */
export function mergeRuns(runs: TextRun[]): TextRun[] {
  const out: TextRun[] = [];
  for (const r of runs) {
    if (r.text === '') continue;
    const last = out[out.length - 1];
    if (last && sameMarks(last.marks, r.marks)) last.text += r.text;
    else out.push({ text: r.text, marks: [...r.marks] });
  }
  return out;
}

/** ProseMirror (TipTap) schema: a list item starts with a paragraph; containers are never empty. */
export function fixItem(blocks: Block[]): Block[] {
  return blocks.length > 0 && blocks[0].type === 'paragraph' ? blocks : [{ type: 'paragraph', content: [] }, ...blocks];
}

export function plainText(runs: TextRun[]): string {
  return runs.map((r) => r.text).join('');
}
