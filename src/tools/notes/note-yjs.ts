// A note's blocks ⇄ the Y.XmlFragment named 'prosemirror', in the shape y-prosemirror (and so
// TipTap's collaboration extension) reads and writes: one Y.XmlElement per node, named after the
// TipTap node type, its attributes as element attributes (heading level, orderedList start,
// codeBlock language), and a textblock's text as one Y.XmlText whose formatting attributes are the
// marks: {bold: {}}, {italic: {}}, {code: {}}, {link: {href}}.
//
// Reading is lenient, because any member's editor writes this document: unknown inline nodes give
// their text (a hardBreak a space), unknown block nodes their children, and prosemirror-schema-basic
// names (strong, em) count as bold and italic.
import * as Y from 'yjs';
import { fixItem, mergeRuns, sortMarks, type Block, type Mark, type TextRun } from './note-model.ts';

export const NOTE_FRAGMENT = 'prosemirror';

type Attrs = Record<string, string | number | Record<string, unknown>>;

export function noteFragment(doc: Y.Doc): Y.XmlFragment {
  return doc.getXmlFragment(NOTE_FRAGMENT);
}

// ---- writing ----

/** New (not yet inserted) elements for the blocks. */
export function blocksToY(blocks: Block[]): Y.XmlElement[] {
  return blocks.map(blockToY);
}

function element(name: string, attrs: Attrs = {}, children: (Y.XmlElement | Y.XmlText)[] = []): Y.XmlElement {
  const el = new Y.XmlElement<Attrs>(name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (children.length > 0) el.insert(0, children);
  return el as unknown as Y.XmlElement;
}

function blockToY(b: Block): Y.XmlElement {
  switch (b.type) {
    case 'paragraph': return element('paragraph', {}, textToY(b.content));
    case 'heading': return element('heading', { level: b.level }, textToY(b.content));
    case 'codeBlock': {
      const attrs: Attrs = b.language === null ? {} : { language: b.language };
      return element('codeBlock', attrs, b.text === '' ? [] : [new Y.XmlText(b.text)]);
    }
    case 'blockquote': return element('blockquote', {}, b.content.map(blockToY));
    case 'bulletList': return element('bulletList', {}, b.items.map(itemToY));
    case 'orderedList': return element('orderedList', { start: b.start }, b.items.map(itemToY));
    case 'horizontalRule': return element('horizontalRule');
  }
}

function itemToY(blocks: Block[]): Y.XmlElement {
  return element('listItem', {}, fixItem(blocks).map(blockToY));
}

function textToY(runs: TextRun[]): Y.XmlText[] {
  const merged = mergeRuns(runs);
  if (merged.length === 0) return [];
  const t = new Y.XmlText();
  // One delta, applied in one pass. Every run names its attributes ({} for none): Yjs would
  // otherwise extend the previous run's marks. (Inline text never ends with a newline, which
  // applyDelta may drop for Quill's sake.)
  t.applyDelta(merged.map((r) => ({ insert: r.text, attributes: markAttributes(r.marks) })));
  return [t];
}

function markAttributes(marks: Mark[]): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  for (const m of marks) a[m.type] = m.type === 'link' ? { href: m.href } : {};
  return a;
}

// ---- reading ----

/** Containers nested deeper than this (only a broken or hostile editor writes them) are left out. */
const MAX_DEPTH = 48;

export function readNote(doc: Y.Doc): Block[] {
  return readChildren(noteFragment(doc).toArray(), 0);
}

function readChildren(children: (Y.XmlElement | Y.XmlText | Y.XmlHook)[], depth: number): Block[] {
  if (depth > MAX_DEPTH) return [];
  const out: Block[] = [];
  for (const c of children) {
    if (c instanceof Y.XmlElement) out.push(...readElement(c, depth));
    else if (c instanceof Y.XmlText) out.push({ type: 'paragraph', content: readRuns([c], depth) });
  }
  return out;
}

function readElement(el: Y.XmlElement, depth: number): Block[] {
  const kids = el.toArray();
  const attr = (k: string) => el.getAttribute(k) as unknown;
  switch (el.nodeName) {
    case 'paragraph': return [{ type: 'paragraph', content: readRuns(kids, depth) }];
    case 'heading': {
      const level = Math.trunc(Number(attr('level')));
      return [{ type: 'heading', level: level >= 1 && level <= 6 ? level : 1, content: readRuns(kids, depth) }];
    }
    case 'codeBlock': {
      const lang = attr('language');
      return [{ type: 'codeBlock', language: typeof lang === 'string' && lang !== '' ? lang : null, text: plainOf(kids, depth) }];
    }
    case 'blockquote': {
      const content = readChildren(kids, depth + 1);
      return [{ type: 'blockquote', content: content.length > 0 ? content : [{ type: 'paragraph', content: [] }] }];
    }
    case 'bulletList': return [{ type: 'bulletList', items: readItems(kids, depth + 1) }];
    case 'orderedList': {
      const start = Math.trunc(Number(attr('start') ?? 1));
      return [{ type: 'orderedList', start: Number.isFinite(start) && start >= 0 ? start : 1, items: readItems(kids, depth + 1) }];
    }
    case 'horizontalRule': return [{ type: 'horizontalRule' }];
    default: {
      // An unknown node: its blocks if it holds any, else its text as a paragraph.
      const blocks = readChildren(kids.filter((k) => k instanceof Y.XmlElement && !isInline(k)), depth + 1);
      return blocks.length > 0 ? blocks : [{ type: 'paragraph', content: readRuns(kids, depth) }];
    }
  }
}

function readItems(kids: (Y.XmlElement | Y.XmlText | Y.XmlHook)[], depth: number): Block[][] {
  return kids.map((k) => fixItem(k instanceof Y.XmlElement && k.nodeName === 'listItem' ? readChildren(k.toArray(), depth) : readChildren([k], depth)));
}

const INLINE = new Set(['hardBreak', 'hard_break', 'image', 'mention', 'emoji', 'text']);
const isInline = (el: Y.XmlElement) => INLINE.has(el.nodeName);

function readRuns(kids: (Y.XmlElement | Y.XmlText | Y.XmlHook)[], depth: number): TextRun[] {
  const runs: TextRun[] = [];
  for (const k of kids) {
    if (k instanceof Y.XmlText) {
      for (const op of k.toDelta() as { insert: unknown; attributes?: Record<string, unknown> }[]) {
        if (typeof op.insert === 'string') runs.push({ text: op.insert, marks: marksOf(op.attributes ?? {}) });
      }
    } else if (k instanceof Y.XmlElement) {
      runs.push({ text: k.nodeName === 'hardBreak' || k.nodeName === 'hard_break' ? ' ' : plainOf(k.toArray(), depth + 1), marks: [] });
    }
  }
  return mergeRuns(runs);
}

function marksOf(a: Record<string, unknown>): Mark[] {
  const on = (k: string) => a[k] !== undefined && a[k] !== null && a[k] !== false;
  const marks: Mark[] = [];
  if (on('link')) {
    const href = (a.link as { href?: unknown } | null)?.href;
    if (typeof href === 'string') marks.push({ type: 'link', href });
  }
  if (on('bold') || on('strong')) marks.push({ type: 'bold' });
  if (on('italic') || on('em')) marks.push({ type: 'italic' });
  if (on('code')) marks.push({ type: 'code' });
  return sortMarks(marks);
}

function plainOf(kids: (Y.XmlElement | Y.XmlText | Y.XmlHook)[], depth: number): string {
  if (depth > MAX_DEPTH) return '';
  let s = '';
  for (const k of kids) {
    if (k instanceof Y.XmlText) s += deltaText(k);
    else if (k instanceof Y.XmlElement) s += plainOf(k.toArray(), depth + 1);
  }
  return s;
}

function deltaText(t: Y.XmlText): string {
  return (t.toDelta() as { insert: unknown }[]).map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('');
}
