// Markdown → note blocks, for the CommonMark block syntax notes support: ATX and setext headings,
// paragraphs, bullet and ordered lists (nested, tight or loose), fenced and indented code blocks,
// block quotes and thematic breaks. Anything else (HTML, tables) is kept as paragraph text.
// Simplifications: tabs count as one column; lazy continuation lines join paragraphs only.
import { readInline } from './markdown-inline.ts';
import { fixItem, type Block } from './note-model.ts';

export function readMarkdown(markdown: string): Block[] {
  return parseBlocks(markdown.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n'), 0);
}

/** Quotes and lists nested deeper than this read as text (the reader stays linear and shallow). */
export const MAX_NESTING = 32;

const BLANK = /^\s*$/u;
const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const ATX = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/;
const THEMATIC = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const LIST = /^( {0,3})([-+*]|\d{1,9}[.)])(?=[ \t]|$)([ \t]*)(.*)$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;

const isBlank = (l: string) => BLANK.test(l);
const indentOf = (l: string) => /^ */.exec(l)![0].length;

interface Fence { ch: string; len: number; indent: number; info: string }

function fenceOpen(l: string): Fence | undefined {
  const m = FENCE.exec(l);
  if (!m) return undefined;
  // A backtick fence's info string has no backtick (else the line is text with a code span).
  if (m[2][0] === '`' && m[3].includes('`')) return undefined;
  return { ch: m[2][0], len: m[2].length, indent: m[1].length, info: m[3].trim() };
}

function fenceCloses(l: string, f: Fence): boolean {
  const m = /^ {0,3}(`+|~+)[ \t]*$/.exec(l);
  return m !== null && m[1][0] === f.ch && m[1].length >= f.len;
}

interface ListMarker { kind: string; start: number; width: number; content: string }

function listMarker(l: string): ListMarker | undefined {
  const m = LIST.exec(l);
  if (!m) return undefined;
  const marker = m[2];
  const ordered = /^\d/.test(marker);
  const spaces = m[3].length;
  const empty = m[4] === '';
  // Content starts after the spaces, unless there are 5 or more (then after one: indented code).
  const gap = empty ? 1 : spaces >= 5 ? 1 : spaces;
  const width = m[1].length + marker.length + gap;
  const content = empty ? '' : m[3].slice(gap) + m[4];
  return { kind: ordered ? marker.slice(-1) : marker, start: ordered ? Number(marker.slice(0, -1)) : 1, width, content };
}

/** Can this line start a block in the middle of a paragraph? */
function interrupts(l: string): boolean {
  if (isBlank(l) || fenceOpen(l) || ATX.test(l) || THEMATIC.test(l) || QUOTE.test(l)) return true;
  const m = listMarker(l);
  return m !== undefined && m.content.trim() !== '' && (m.kind === '-' || m.kind === '+' || m.kind === '*' || m.start === 1);
}

/** Tracks whether the last line taken into a container was paragraph text (lazy lines may follow it). */
class ParagraphTracker {
  private fence: Fence | undefined;
  paragraph = false;

  take(line: string): void {
    if (this.fence) {
      if (fenceCloses(line, this.fence)) this.fence = undefined;
      this.paragraph = false;
      return;
    }
    const f = fenceOpen(line);
    if (f) { this.fence = f; this.paragraph = false; return; }
    const inner = line.replace(/^(?: {0,3}> ?)+/, '').replace(/^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]+|$)/, '');
    this.paragraph = !isBlank(inner) && !ATX.test(inner) && !THEMATIC.test(inner);
  }
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i];
    if (isBlank(l)) { i++; continue; }
    const fence = fenceOpen(l);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !fenceCloses(lines[i], fence)) {
        // Content lines lose up to the fence's own indentation.
        body.push(lines[i].replace(new RegExp(`^ {0,${fence.indent}}`), ''));
        i++;
      }
      i++;
      const lang = fence.info.split(/\s+/)[0];
      out.push({ type: 'codeBlock', language: lang === '' ? null : lang, text: body.join('\n') });
      continue;
    }
    const atx = ATX.exec(l);
    if (atx) {
      const text = atx[2].replace(/(^|[ \t]+)#+[ \t]*$/, '').trim();
      out.push({ type: 'heading', level: atx[1].length, content: readInline(text) });
      i++;
      continue;
    }
    if (THEMATIC.test(l)) {
      out.push({ type: 'horizontalRule' });
      i++;
      continue;
    }
    const nest = depth < MAX_NESTING;
    if (nest && QUOTE.test(l)) {
      const inner: string[] = [];
      const tracker = new ParagraphTracker();
      while (i < lines.length) {
        const q = lines[i];
        let taken: string;
        if (QUOTE.test(q)) taken = q.replace(QUOTE, '');
        else if (!isBlank(q) && tracker.paragraph && !interrupts(q)) taken = q;
        else break;
        inner.push(taken);
        tracker.take(taken);
        i++;
      }
      const content = parseBlocks(inner, depth + 1);
      out.push({ type: 'blockquote', content: content.length > 0 ? content : [{ type: 'paragraph', content: [] }] });
      continue;
    }
    const marker = nest ? listMarker(l) : undefined;
    if (marker) {
      i = parseList(lines, i, marker, out, depth);
      continue;
    }
    if (indentOf(l) >= 4) {
      const body: string[] = [];
      while (i < lines.length && (isBlank(lines[i]) || indentOf(lines[i]) >= 4)) body.push(lines[i++].slice(4));
      while (body.length > 0 && isBlank(body[body.length - 1])) body.pop();
      out.push({ type: 'codeBlock', language: null, text: body.join('\n') });
      continue;
    }
    // A paragraph, or a setext heading if an underline follows.
    const para: string[] = [l.trim()];
    i++;
    let level = 0;
    while (i < lines.length) {
      const n = lines[i];
      const setext = SETEXT.exec(n);
      if (setext) { level = setext[1][0] === '=' ? 1 : 2; i++; break; }
      if (nest ? interrupts(n) : isBlank(n)) break;
      para.push(n.trim());
      i++;
    }
    const content = readInline(para.join('\n').replace(/^\s+|\s+$/gu, ''));
    out.push(level > 0 ? { type: 'heading', level, content } : { type: 'paragraph', content });
  }
  return out;
}

/** Parses the list starting at line i into `out`; returns the index after it. */
function parseList(lines: string[], i: number, first: ListMarker, out: Block[], depth: number): number {
  const items: Block[][] = [];
  let marker: ListMarker | undefined = first;
  while (marker) {
    const width = marker.width;
    const body: string[] = [marker.content];
    const tracker = new ParagraphTracker();
    tracker.take(marker.content);
    const startsBlank = isBlank(marker.content);
    i++;
    while (i < lines.length) {
      const l = lines[i];
      if (isBlank(l)) {
        // A blank line continues the item only if indented content follows (and the item has begun).
        let k = i;
        while (k < lines.length && isBlank(lines[k])) k++;
        if (k === lines.length || indentOf(lines[k]) < width || (startsBlank && body.length === 1)) break;
        for (; i < k; i++) body.push(lines[i].length > width ? lines[i].slice(width) : '');
        tracker.paragraph = false;
        continue;
      }
      if (indentOf(l) >= width) {
        body.push(l.slice(width));
      } else if (tracker.paragraph && !interrupts(l) && !listMarker(l)) {
        body.push(l.trimStart());
      } else {
        break;
      }
      tracker.take(body[body.length - 1]);
      i++;
    }
    items.push(fixItem(parseBlocks(body, depth + 1)));
    // Next item of the same list, possibly after blank lines.
    let k = i;
    while (k < lines.length && isBlank(lines[k])) k++;
    const next = k < lines.length && !THEMATIC.test(lines[k]) ? listMarker(lines[k]) : undefined;
    if (next && next.kind === first.kind) { i = k; marker = next; } else marker = undefined;
  }
  out.push(first.kind === '.' || first.kind === ')' ? { type: 'orderedList', start: first.start, items } : { type: 'bulletList', items });
  return i;
}
