// Markdown inline syntax → text runs: emphasis (*, _), strong (**, __), code spans, links
// [text](url), backslash escapes. Emphasis follows CommonMark's delimiter algorithm (delimiter
// runs, the "rule of 3", links processed before the emphasis around them), with one deliberate
// difference: a `*` run opens when followed by non-whitespace and closes when preceded by
// non-whitespace, whatever the punctuation around it. CommonMark would not let `x**(a)**y` be bold;
// notes can hold exactly that, so the writer relies on this reading (and `_` keeps the stricter
// word rule, so snake_case stays plain); and see mismatched() below.
import { mergeRuns, sortMarks, type Mark, type TextRun } from './note-model.ts';

type Inline =
  | { t: 'text'; s: string }
  | { t: 'code'; s: string }
  | { t: 'em' | 'strong'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] };

interface Delim {
  ch: '*' | '_';
  count: number;
  orig: number;
  canOpen: boolean;
  canClose: boolean;
  node: Node;
  prev: Delim | null;
  next: Delim | null;
}

interface Node {
  inline?: Inline;
  delim?: Delim;
  prev: Node | null;
  next: Node | null;
}

interface Bracket {
  node: Node;
  prev: Bracket | null;
  /** Top of the delimiter stack when the bracket was seen: emphasis inside the link stops there. */
  bottom: Delim | null;
  active: boolean;
}

const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const WS = /\s/u;
const PUNCT = /[\p{P}\p{S}]/u;

const isWs = (c: string | undefined): boolean => c === undefined || WS.test(c);
const isPunct = (c: string | undefined): boolean => c !== undefined && PUNCT.test(c);

/** Parses one block's inline Markdown (lines joined by \n; a line break reads as a space). */
export function readInline(src: string): TextRun[] {
  return new InlineParser(src).parse();
}

class InlineParser {
  private readonly src: string;
  private readonly head: Node = { prev: null, next: null };
  private tail: Node = this.head;
  private delims: Delim | null = null;
  private brackets: Bracket | null = null;
  private text = '';

  constructor(src: string) {
    this.src = src;
  }

  parse(): TextRun[] {
    const s = this.src;
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === '\\' && i + 1 < s.length && ASCII_PUNCT.test(s[i + 1])) {
        this.text += s[i + 1];
        i += 2;
      } else if (c === '`') {
        i = this.codeSpan(i);
      } else if (c === '*' || c === '_') {
        i = this.delimiterRun(i, c);
      } else if (c === '[') {
        this.flush();
        const node = this.append({ t: 'text', s: '[' });
        this.brackets = { node, prev: this.brackets, bottom: this.delims, active: true };
        i++;
      } else if (c === ']') {
        i = this.closeBracket(i);
      } else if (c === '\n') {
        // A line break inside a paragraph is a soft break: a space (trailing spaces before it go).
        this.text = this.text.replace(/[ \t]+$/, '') + ' ';
        i++;
        while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      } else {
        this.text += c;
        i++;
      }
    }
    this.flush();
    this.processEmphasis(null);
    const inlines = this.take(this.head.next, null);
    return mergeRuns(flatten(inlines, []));
  }

  private flush(): void {
    if (this.text !== '') {
      this.append({ t: 'text', s: this.text });
      this.text = '';
    }
  }

  private append(inline: Inline | undefined, delim?: Delim): Node {
    const node: Node = { inline, delim, prev: this.tail, next: null };
    this.tail.next = node;
    this.tail = node;
    return node;
  }

  private codeSpan(i: number): number {
    const s = this.src;
    let n = 0;
    while (s[i + n] === '`') n++;
    // The closing run must have exactly the same length.
    let j = i + n;
    while (j < s.length) {
      if (s[j] !== '`') { j++; continue; }
      let m = 0;
      while (s[j + m] === '`') m++;
      if (m === n) {
        let content = s.slice(i + n, j).replace(/\n/g, ' ');
        if (content.length >= 2 && content[0] === ' ' && content[content.length - 1] === ' ' && content.trim() !== '') content = content.slice(1, -1);
        this.flush();
        this.append({ t: 'code', s: content });
        return j + m;
      }
      j += m;
    }
    this.text += '`'.repeat(n);
    return i + n;
  }

  private delimiterRun(i: number, ch: '*' | '_'): number {
    const s = this.src;
    let n = 0;
    while (s[i + n] === ch) n++;
    const before = i > 0 ? s[i - 1] : undefined;
    const after = s[i + n];
    const left = !isWs(after);
    const right = !isWs(before);
    const canOpen = ch === '*' ? left : left && (!right || isPunct(before));
    const canClose = ch === '*' ? right : right && (!left || isPunct(after));
    this.flush();
    const node = this.append(undefined);
    if (canOpen || canClose) {
      const d: Delim = { ch, count: n, orig: n, canOpen, canClose, node, prev: this.delims, next: null };
      if (this.delims) this.delims.next = d;
      this.delims = d;
      node.delim = d;
    } else {
      node.inline = { t: 'text', s: ch.repeat(n) };
    }
    return i + n;
  }

  private closeBracket(i: number): number {
    const opener = this.brackets;
    if (!opener) { this.text += ']'; return i + 1; }
    this.brackets = opener.prev;
    if (!opener.active) { this.text += ']'; return i + 1; }
    const dest = readDestination(this.src, i + 1);
    if (!dest) { this.text += ']'; return i + 1; }
    this.flush();
    this.processEmphasis(opener.bottom);
    const children = this.take(opener.node.next, null);
    // The bracket's node becomes the link.
    opener.node.inline = { t: 'link', href: dest.href, c: children };
    opener.node.next = null;
    this.tail = opener.node;
    // Links do not contain links: earlier brackets can no longer make one.
    for (let b = this.brackets; b; b = b.prev) b.active = false;
    return dest.end;
  }

  /** CommonMark "process emphasis" over the delimiters above `bottom`. */
  private processEmphasis(bottom: Delim | null): void {
    const openersBottom = new Map<string, Delim | null>();
    let closer: Delim | null = this.delims;
    while (closer && closer.prev !== bottom) closer = closer.prev;
    if (closer === bottom) closer = null;
    while (closer) {
      if (!closer.canClose) { closer = closer.next; continue; }
      const key = `${closer.ch}${closer.canOpen ? 1 : 0}${closer.orig % 3}${Math.min(closer.count, 3)}`;
      const floor = openersBottom.has(key) ? openersBottom.get(key)! : bottom;
      let opener = closer.prev;
      let found = false;
      while (opener && opener !== bottom && opener !== floor) {
        const oddMatch = (closer.canOpen || opener.canClose) && closer.orig % 3 !== 0 && (opener.orig + closer.orig) % 3 === 0;
        if (opener.ch === closer.ch && opener.canOpen && !oddMatch && !mismatched(closer, opener)) { found = true; break; }
        opener = opener.prev;
      }
      const current: Delim = closer;
      if (found && opener) {
        const use = current.count >= 2 && opener.count >= 2 ? 2 : 1;
        opener.count -= use;
        current.count -= use;
        const children = this.take(opener.node.next, current.node);
        const wrapped: Node = { inline: { t: use === 2 ? 'strong' : 'em', c: children }, prev: opener.node, next: current.node };
        opener.node.next = wrapped;
        current.node.prev = wrapped;
        // Delimiters between opener and closer can no longer match anything.
        opener.next = current;
        current.prev = opener;
        if (opener.count === 0) { this.removeNode(opener.node); this.removeDelim(opener); }
        if (current.count === 0) {
          closer = current.next;
          this.removeNode(current.node);
          this.removeDelim(current);
        }
      } else {
        closer = current.next;
        openersBottom.set(key, current.prev);
        if (!current.canOpen) this.removeDelim(current);
      }
    }
    // What is left above the bottom is literal text.
    while (this.delims && this.delims !== bottom) this.removeDelim(this.delims);
  }

  private removeDelim(d: Delim): void {
    if (d.prev) d.prev.next = d.next;
    if (d.next) d.next.prev = d.prev;
    else this.delims = d.prev;
    d.node.inline = { t: 'text', s: d.ch.repeat(d.count) };
    d.node.delim = undefined;
  }

  private removeNode(n: Node): void {
    if (n.prev) n.prev.next = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev ?? this.head;
  }

  /** Unlinks the nodes from `from` up to (not including) `to` and returns them as inlines. */
  private take(from: Node | null, to: Node | null): Inline[] {
    const out: Inline[] = [];
    let n = from;
    const before = from?.prev ?? null;
    while (n && n !== to) {
      if (n.delim) out.push({ t: 'text', s: n.delim.ch.repeat(n.delim.count) });
      else if (n.inline) out.push(n.inline);
      n = n.next;
    }
    if (before) {
      before.next = to;
      if (to) to.prev = before;
      else this.tail = before;
    }
    return out;
  }
}

/**
 * A run that may also open does not close across sizes: with emphasis open (one left), `**`
 * opens strong; with strong open (two left), `*` opens emphasis. CommonMark would close instead
 * and misread `***a**b*`-like nesting that notes write; runs that cannot open keep its rule.
 */
function mismatched(closer: Delim, opener: Delim): boolean {
  return closer.canOpen && ((closer.count === 1 && opener.count === 2) || (closer.count === 2 && opener.count === 1));
}

/** `(destination "optional title")` right after `]`; undefined if there is none. */
function readDestination(s: string, i: number): { href: string; end: number } | undefined {
  if (s[i] !== '(') return undefined;
  let j = i + 1;
  const skipWs = () => { while (j < s.length && (s[j] === ' ' || s[j] === '\t' || s[j] === '\n')) j++; };
  skipWs();
  let href = '';
  if (s[j] === '<') {
    j++;
    while (j < s.length && s[j] !== '>') {
      if (s[j] === '\n' || s[j] === '<') return undefined;
      if (s[j] === '\\' && j + 1 < s.length && ASCII_PUNCT.test(s[j + 1])) { href += s[j + 1]; j += 2; continue; }
      href += s[j++];
    }
    if (s[j] !== '>') return undefined;
    j++;
  } else {
    let depth = 0;
    while (j < s.length) {
      const c = s[j];
      if (c === '\\' && j + 1 < s.length && ASCII_PUNCT.test(s[j + 1])) { href += s[j + 1]; j += 2; continue; }
      if (/[\s\u0000-\u001f]/.test(c)) break;
      if (c === '(') depth++;
      if (c === ')') { if (depth === 0) break; depth--; }
      href += c;
      j++;
    }
    if (depth !== 0) return undefined;
  }
  const afterDest = j;
  skipWs();
  // An optional title, which notes do not keep; it needs whitespace before it.
  if (j > afterDest && (s[j] === '"' || s[j] === '\'' || s[j] === '(')) {
    const close = s[j] === '(' ? ')' : s[j];
    j++;
    while (j < s.length && s[j] !== close) j += s[j] === '\\' ? 2 : 1;
    if (s[j] !== close) return undefined;
    j++;
    skipWs();
  }
  if (s[j] !== ')') return undefined;
  return { href, end: j + 1 };
}

/** The inline tree as runs. Iterative: emphasis can nest as deep as the input is long. */
function flatten(inlines: Inline[], marks: Mark[]): TextRun[] {
  const out: TextRun[] = [];
  const stack: { items: Inline[]; i: number; marks: Mark[] }[] = [{ items: inlines, i: 0, marks }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i >= top.items.length) { stack.pop(); continue; }
    const x = top.items[top.i++];
    const m = top.marks;
    switch (x.t) {
      case 'text': out.push({ text: x.s, marks: sortMarks(m) }); break;
      case 'code': out.push({ text: x.s, marks: sortMarks(with_(m, { type: 'code' })) }); break;
      case 'em': stack.push({ items: x.c, i: 0, marks: with_(m, { type: 'italic' }) }); break;
      case 'strong': stack.push({ items: x.c, i: 0, marks: with_(m, { type: 'bold' }) }); break;
      case 'link': stack.push({ items: x.c, i: 0, marks: with_(m.filter((y) => y.type !== 'link'), { type: 'link', href: x.href }) }); break;
    }
  }
  return out;
}

function with_(marks: Mark[], m: Mark): Mark[] {
  return marks.some((x) => x.type === m.type) ? marks : [...marks, m];
}
