// Note → Markdown (CommonMark, read back by markdown-read.ts). Blocks are separated by blank
// lines; lists are tight when their items are single lines; code blocks are fenced; marks nest as
// link ⊃ bold/italic ⊃ code, choosing at each run which mark to open first by how far it extends,
// so marks that nest in the note nest in the Markdown.
//
// Markdown cannot express everything a rich-text editor can; the writer then stays readable and
// loses as little as it can: a line break inside a paragraph becomes a space, spaces at the edge of
// bold/italic move outside it (`** a**` would not be bold), empty paragraphs are left out, and
// bold and italic that overlap without nesting are closed and reopened. canonicalRuns() is that
// normalisation; on documents it leaves unchanged (and whose bold/italic nest), reading the
// Markdown back gives the same document.
import { fixItem, mergeRuns, sameMark, sortMarks, type Block, type Mark, type TextRun } from './note-model.ts';

const WS = /\s/u;
const ALNUM = /[\p{L}\p{N}]/u;
const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const EMPHASIS = new Set(['bold', 'italic']);

export function writeMarkdown(blocks: Block[]): string {
  const lines = writeBlocks(blocks);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function writeBlocks(blocks: Block[]): string[] {
  const out: string[] = [];
  let prev: Block | undefined;
  let alternate = false;
  for (const b of blocks) {
    if (b.type === 'paragraph' && canonicalRuns(b.content, true).length === 0) continue;
    // Two lists of the same kind in a row would read as one: the second uses the other marker.
    alternate = prev !== undefined && prev.type === b.type && (b.type === 'bulletList' || b.type === 'orderedList') ? !alternate : false;
    const lines = writeBlock(b, alternate);
    if (out.length > 0) out.push('');
    out.push(...lines);
    prev = b;
  }
  return out;
}

function writeBlock(b: Block, alternate: boolean): string[] {
  switch (b.type) {
    case 'paragraph':
      return [writeInline(b.content, true)];
    case 'heading': {
      let text = writeInline(b.content, false);
      // A trailing # would read as the heading's closing sequence.
      if (text.endsWith('#')) text = text.slice(0, -1) + '\\#';
      const level = Math.min(6, Math.max(1, Math.trunc(b.level) || 1));
      return ['#'.repeat(level) + (text === '' ? '' : ' ' + text)];
    }
    case 'codeBlock': {
      const longest = Math.max(0, ...[...b.text.matchAll(/`+/g)].map((m) => m[0].length));
      const fence = '`'.repeat(Math.max(3, longest + 1));
      const lang = b.language !== null && /^[^\s`]+$/.test(b.language) ? b.language : '';
      return [fence + lang, ...b.text.split('\n'), fence];
    }
    case 'blockquote': {
      const inner = writeBlocks(b.content);
      return inner.length === 0 ? ['>'] : inner.map((l) => (l === '' ? '>' : '> ' + l));
    }
    case 'bulletList':
      return writeList(b.items, () => (alternate ? '* ' : '- '));
    case 'orderedList': {
      const start = Math.max(0, Math.trunc(b.start) || 0);
      return writeList(b.items, (i) => `${start + i}${alternate ? ')' : '.'} `);
    }
    case 'horizontalRule':
      return ['---'];
  }
}

function writeList(items: Block[][], marker: (i: number) => string): string[] {
  const rendered = items.map((item, i) => writeItem(fixItem(item), marker(i)));
  const tight = rendered.every((lines) => !lines.includes(''));
  const out: string[] = [];
  rendered.forEach((lines, i) => {
    if (i > 0 && !tight) out.push('');
    out.push(...lines);
  });
  return out;
}

function writeItem(blocks: Block[], marker: string): string[] {
  const pad = ' '.repeat(marker.length);
  const first = blocks[0];
  const indent = (lines: string[]) => lines.map((l) => (l === '' ? '' : pad + l));
  if (first.type === 'paragraph' && canonicalRuns(first.content, true).length === 0) {
    // An item that starts with something other than text: the marker stands alone on its line.
    return [marker.trimEnd(), ...indent(writeBlocks(blocks.slice(1)))];
  }
  const head = writeInline((first as { content: TextRun[] }).content, true);
  const rest = blocks.slice(1);
  const lines = [marker + head];
  if (rest.length > 0) {
    const next = rest[0];
    // A list may follow the item's text directly (tight); anything else needs a blank line.
    // (Not an empty first item: that cannot interrupt a paragraph.)
    const joins = (next.type === 'bulletList' || (next.type === 'orderedList' && Math.trunc(next.start) === 1)) && startsWithText(next.items[0]);
    if (!joins) lines.push('');
    lines.push(...indent(writeBlocks(rest)));
  }
  return lines;
}

function startsWithText(item: Block[] | undefined): boolean {
  const first = item?.[0];
  return first !== undefined && first.type === 'paragraph' && canonicalRuns(first.content, true).length > 0;
}

/**
 * The runs as Markdown can hold them: merged, marks sorted, line breaks as spaces, no whitespace
 * just inside a bold/italic edge, and (for a block's text, `trim`) no whitespace at the ends.
 */
export function canonicalRuns(runs: TextRun[], trim: boolean): TextRun[] {
  let rs = mergeRuns(runs.map((r) => ({ text: r.text.replace(/\r\n?|\n/g, ' '), marks: sortMarks(dedupe(r.marks)) })));
  for (let changed = true; changed;) {
    changed = false;
    const next: TextRun[] = [];
    rs.forEach((r, i) => {
      if (r.marks.some((m) => m.type === 'code')) { next.push(r); return; }
      const opened = r.marks.filter((m) => EMPHASIS.has(m.type) && !(i > 0 && has(rs[i - 1], m)));
      const closed = r.marks.filter((m) => EMPHASIS.has(m.type) && !(i < rs.length - 1 && has(rs[i + 1], m)));
      const lead = opened.length > 0 ? /^\s*/u.exec(r.text)![0] : '';
      const trail = closed.length > 0 && lead.length < r.text.length ? /\s*$/u.exec(r.text)![0] : '';
      if (lead === '' && trail === '') { next.push(r); return; }
      changed = true;
      if (lead.length === r.text.length) {
        next.push({ text: r.text, marks: r.marks.filter((m) => !opened.includes(m) && !closed.includes(m)) });
        return;
      }
      if (lead) next.push({ text: lead, marks: r.marks.filter((m) => !opened.includes(m)) });
      next.push({ text: r.text.slice(lead.length, r.text.length - trail.length), marks: r.marks });
      if (trail) next.push({ text: trail, marks: r.marks.filter((m) => !closed.includes(m)) });
    });
    rs = mergeRuns(next);
  }
  if (trim) {
    while (rs.length > 0 && !isCode(rs[0]) && WS.test(rs[0].text[0])) {
      rs[0] = { ...rs[0], text: rs[0].text.replace(/^\s+/u, '') };
      if (rs[0].text === '') rs.shift();
    }
    while (rs.length > 0 && !isCode(rs[rs.length - 1]) && WS.test(rs[rs.length - 1].text.slice(-1))) {
      const last = rs[rs.length - 1];
      rs[rs.length - 1] = { ...last, text: last.text.replace(/\s+$/u, '') };
      if (rs[rs.length - 1].text === '') rs.pop();
    }
    rs = canonicalAgain(rs);
  }
  return rs;
}

/** Trimming can expose a new emphasis edge; one more pass settles it. */
function canonicalAgain(rs: TextRun[]): TextRun[] {
  const again = canonicalRuns(rs, false);
  return again.length === rs.length && again.every((r, i) => r.text === rs[i].text) ? again : canonicalRuns(again, true);
}

const isCode = (r: TextRun) => r.marks.some((m) => m.type === 'code');
const has = (r: TextRun, m: Mark) => r.marks.some((x) => sameMark(x, m));

function dedupe(marks: Mark[]): Mark[] {
  const out: Mark[] = [];
  for (const m of marks) if (!out.some((x) => x.type === m.type)) out.push(m);
  return out;
}

/** One block's text as inline Markdown; `lineStart`: it begins a line (block syntax must be escaped). */
export function writeInline(input: TextRun[], lineStart: boolean): string {
  const runs = canonicalRuns(input, true);
  let out = '';
  const open: Mark[] = [];
  const close = (m: Mark) => { out += m.type === 'link' ? `](${destination(m.href)})` : m.type === 'bold' ? '**' : '*'; };
  runs.forEach((r, i) => {
    const want = r.marks.filter((m) => m.type !== 'code');
    // Close from the innermost mark down to the lowest one that does not continue.
    const keep = open.findIndex((m) => !want.some((w) => sameMark(w, m)));
    if (keep >= 0) for (const m of open.splice(keep).reverse()) close(m);
    // Open the missing ones, those that reach furthest first, so they enclose the others.
    const missing = want.filter((w) => !open.some((m) => sameMark(m, w)));
    const reach = (m: Mark) => { let j = i; while (j + 1 < runs.length && has(runs[j + 1], m)) j++; return j; };
    missing.sort((a, b) => reach(b) - reach(a) || (a.type === 'link' ? -1 : b.type === 'link' ? 1 : 0));
    for (const m of missing) {
      out += m.type === 'link' ? '[' : m.type === 'bold' ? '**' : '*';
      open.push(m);
    }
    out += isCode(r) ? codeSpan(r.text) : escapeText(r.text, lineStart && out === '');
  });
  for (const m of open.reverse()) close(m);
  return out;
}

function escapeText(text: string, atLineStart: boolean): string {
  const chars = [...text];
  let t = '';
  chars.forEach((c, k) => {
    const before = chars[k - 1];
    const after = chars[k + 1];
    let escape = false;
    if (c === '`' || c === '[' || c === ']') escape = true;
    // A backslash only escapes punctuation; at the end of a run a delimiter may follow.
    else if (c === '\\') escape = after === undefined || ASCII_PUNCT.test(after);
    // Between two spaces a * can neither open nor close; inside a word a _ cannot either.
    else if (c === '*') escape = !(before !== undefined && after !== undefined && WS.test(before) && WS.test(after));
    else if (c === '_') escape = !(before !== undefined && after !== undefined && ALNUM.test(before) && ALNUM.test(after));
    else if (c === '<') escape = after !== undefined && /[A-Za-z/!?]/.test(after);
    else if (c === '&') escape = /^&#?[A-Za-z0-9]+;/.test(chars.slice(k, k + 34).join(''));
    t += escape ? '\\' + c : c;
  });
  if (atLineStart) {
    t = t.replace(/^([#>+\-~=])/, '\\$1').replace(/^(\d{1,9})([.)])/, '$1\\$2');
  }
  return t;
}

function codeSpan(text: string): string {
  const runs = new Set([...text.matchAll(/`+/g)].map((m) => m[0].length));
  let n = 1;
  while (runs.has(n)) n++;
  const fence = '`'.repeat(n);
  const pad = text.startsWith('`') || text.endsWith('`') || (text.startsWith(' ') && text.endsWith(' ') && text.trim() !== '') ? ' ' : '';
  return fence + pad + text + pad + fence;
}

function destination(href: string): string {
  let depth = 0;
  let balanced = true;
  for (const c of href) {
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) balanced = false;
  }
  if (href !== '' && balanced && depth === 0 && /^[^\s<>\\\u0000-\u001f]*$/u.test(href)) return href;
  return '<' + href.replace(/[\\<>]/g, '\\$&').replace(/[\r\n]/g, ' ') + '>';
}
