// Notes ⇄ Markdown: examples, and properties over generated documents of the supported subset
// (headings, paragraphs, bullet/ordered lists, code blocks, quotes, bold, italic, code, links):
// Markdown → blocks → Markdown is exact for canonical documents, the Yjs mapping is exact, and the
// reader never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as Y from 'yjs';
import { readMarkdown } from '../../src/tools/notes/markdown-read.ts';
import { canonicalRuns, writeMarkdown } from '../../src/tools/notes/markdown-write.ts';
import { fixItem, mergeRuns, sortMarks, type Block, type Mark, type TextRun } from '../../src/tools/notes/note-model.ts';
import { blocksToY, noteFragment, readNote } from '../../src/tools/notes/note-yjs.ts';

const p = (...content: TextRun[]): Block => ({ type: 'paragraph', content });
const t = (text: string, ...marks: Mark[]): TextRun => ({ text, marks: sortMarks(marks) });
const B: Mark = { type: 'bold' };
const I: Mark = { type: 'italic' };
const C: Mark = { type: 'code' };
const L = (href: string): Mark => ({ type: 'link', href });

test('reads the CommonMark block and inline syntax notes support', () => {
  const md = [
    '# Title *with* **bold** #', '', 'Setext', '======', '',
    'Para with [a link](https://x.org/a_(b) "title") and `code`,', 'wrapped, and snake_case_name and 2 * 3.', '',
    '- one', '- **two**', '  - nested', '', '3. three', '4) other list', '',
    '> quote', 'lazy line', '', '```js', 'let a = 1;', '', '  b', '```', '', '    indented code', '', '***', '',
  ].join('\n');
  assert.deepEqual(readMarkdown(md), [
    { type: 'heading', level: 1, content: [t('Title '), t('with', I), t(' '), t('bold', B)] },
    { type: 'heading', level: 1, content: [t('Setext')] },
    p(t('Para with '), t('a link', L('https://x.org/a_(b)')), t(' and '), t('code', C), t(', wrapped, and snake_case_name and 2 * 3.')),
    { type: 'bulletList', items: [[p(t('one'))], [p(t('two', B)), { type: 'bulletList', items: [[p(t('nested'))]] }]] },
    { type: 'orderedList', start: 3, items: [[p(t('three'))]] },
    { type: 'orderedList', start: 4, items: [[p(t('other list'))]] },
    { type: 'blockquote', content: [p(t('quote lazy line'))] },
    { type: 'codeBlock', language: 'js', text: 'let a = 1;\n\n  b' },
    { type: 'codeBlock', language: null, text: 'indented code' },
    { type: 'horizontalRule' },
  ]);
});

test('emphasis follows the delimiter rules, links win over emphasis, escapes are literal', () => {
  const inline = (md: string) => (readMarkdown(md)[0] as { content: TextRun[] }).content;
  assert.deepEqual(inline('***both** italic*'), [t('both', B, I), t(' italic', I)]);
  assert.deepEqual(inline('*a **b** c*'), [t('a ', I), t('b', B, I), t(' c', I)]);
  assert.deepEqual(inline('x**(a)**y'), [t('x'), t('(a)', B), t('y')]);
  assert.deepEqual(inline('\\*not\\* \\[x\\](y) a\\\\b'), [t('*not* [x](y) a\\b')]);
  assert.deepEqual(inline('[**bold link**](<a b>) **[x](y)**'), [t('bold link', L('a b'), B), t(' '), t('x', L('y'), B)]);
  assert.deepEqual(inline('``a`b`` ` c `'), [t('a`b', C), t(' '), t('c', C)]);
  assert.deepEqual(inline('[unclosed *em'), [t('[unclosed *em')]);
  // A byte-order mark and Windows line endings are not content.
  assert.deepEqual(readMarkdown('\uFEFF# A\r\n\r\nb\r\n'), [{ type: 'heading', level: 1, content: [t('A')] }, p(t('b'))]);
});

test('writes readable Markdown', () => {
  const md = writeMarkdown([
    { type: 'heading', level: 2, content: [t('Plan '), t('v2', C)] },
    p(t('Read '), t('the docs', L('https://example.org/docs')), t(' and '), t('ship', B, I), t('.')),
    { type: 'bulletList', items: [[p(t('alpha'))], [p(t('beta')), { type: 'orderedList', start: 1, items: [[p(t('one'))]] }]] },
    { type: 'codeBlock', language: 'ts', text: 'const x = `y`;' },
    { type: 'blockquote', content: [p(t('quoted'))] },
  ]);
  assert.equal(md, [
    '## Plan `v2`', '', 'Read [the docs](https://example.org/docs) and ***ship***.', '',
    '- alpha', '- beta', '  1. one', '', '```ts', 'const x = `y`;', '```', '', '> quoted', '',
  ].join('\n'));
});

test('what Markdown cannot hold is normalised, not lost silently', () => {
  // Spaces at the edge of bold move outside it; a line break in a paragraph becomes a space.
  assert.deepEqual(canonicalRuns([t('a'), t(' b ', B), t('c\nd')], true), [t('a '), t('b', B), t(' c d')]);
  // Two lists of the same kind in a row stay two lists.
  const two: Block[] = [{ type: 'bulletList', items: [[p(t('a'))]] }, { type: 'bulletList', items: [[p(t('b'))]] }];
  assert.deepEqual(readMarkdown(writeMarkdown(two)), two);
  // An item that starts with a code block.
  const item: Block[] = [{ type: 'bulletList', items: [[p(), { type: 'codeBlock', language: null, text: 'x' }]] }];
  assert.deepEqual(readMarkdown(writeMarkdown(item)), item);
});

// ---- generated documents ----

const CHARS = ['a', 'b', 'Z', '1', '9', ' ', ' ', '.', ',', '*', '_', '`', '[', ']', '(', ')', '\\', '#', '>', '-', '+', '~', '=', '!', '<', '&', ';', ':', 'é', '漢', '👍', '|', '"', '\'', '\u00a0'];
const text = fc.string({ unit: fc.constantFrom(...CHARS), minLength: 1, maxLength: 8 });
const codeText = fc.string({ unit: fc.constantFrom('a', ' ', '`', '*', '\\', '_', '#'), minLength: 1, maxLength: 6 });
const href = fc.constantFrom('https://example.org', 'https://x.org/a_(b)', 'rel/path', 'a b', 'q?x=1&y=<2>', '', 'back\\slash', 'paren)');

type Tree = { k: 'text' | 'code'; s: string } | { k: 'bold' | 'italic'; c: Tree[] } | { k: 'link'; href: string; c: Tree[] };

function trees(depth: number, inLink: boolean): fc.Arbitrary<Tree[]> {
  const leaf = fc.oneof(text.map((s): Tree => ({ k: 'text', s })), codeText.map((s): Tree => ({ k: 'code', s })));
  if (depth === 0) return fc.array(leaf, { minLength: 1, maxLength: 3 });
  const inner = trees(depth - 1, inLink);
  const nodes: fc.Arbitrary<Tree>[] = [leaf, leaf,
    inner.map((c): Tree => ({ k: 'bold', c })),
    inner.map((c): Tree => ({ k: 'italic', c }))];
  if (!inLink) nodes.push(fc.tuple(href, trees(depth - 1, true)).map(([h, c]): Tree => ({ k: 'link', href: h, c })));
  return fc.array(fc.oneof(...nodes), { minLength: 1, maxLength: 4 });
}

function flatten(ts: Tree[], marks: Mark[] = []): TextRun[] {
  return ts.flatMap((x): TextRun[] => {
    const add = (m: Mark) => [...marks.filter((y) => y.type !== m.type), m];
    switch (x.k) {
      case 'text': return [{ text: x.s, marks: sortMarks(marks) }];
      case 'code': return [{ text: x.s, marks: sortMarks(add(C)) }];
      case 'bold': return flatten(x.c, add(B));
      case 'italic': return flatten(x.c, add(I));
      case 'link': return flatten(x.c, add(L(x.href)));
    }
  });
}

/** Do the spans of bold, italic and links nest (Markdown can only write nesting marks)? */
function nests(runs: TextRun[]): boolean {
  const spans: [string, number, number][] = [];
  runs.forEach((r, i) => {
    for (const m of r.marks) {
      if (m.type === 'code') continue;
      const key = m.type === 'link' ? `link ${m.href}` : m.type;
      const open = spans.find((s) => s[0] === key && s[2] === i - 1);
      if (open) open[2] = i;
      else spans.push([key, i, i]);
    }
  });
  return spans.every(([, a1, b1]) => spans.every(([, a2, b2]) => b1 < a2 || b2 < a1 || (a1 <= a2 && b2 <= b1) || (a2 <= a1 && b1 <= b2)));
}

const inline = fc.oneof(fc.constant(1), fc.constant(2)).chain((d) => trees(d, false)).map((ts) => canonicalRuns(mergeRuns(flatten(ts)), true));
const nonEmptyInline = inline.map((rs) => (rs.length > 0 ? rs : [t('x')]));
const paragraph = nonEmptyInline.map((content): Block => ({ type: 'paragraph', content }));
const leafBlock: fc.Arbitrary<Block> = fc.oneof(
  { arbitrary: paragraph, weight: 4 },
  { arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), inline).map(([level, content]): Block => ({ type: 'heading', level, content })), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(null, 'js', 'c++'), fc.string({ unit: fc.constantFrom('a', ' ', '`', '~', '\n', '#', '-', '>', '*'), maxLength: 20 })).map(([language, text]): Block => ({ type: 'codeBlock', language, text })), weight: 1 },
  { arbitrary: fc.constant<Block>({ type: 'horizontalRule' }), weight: 1 },
);

const block: fc.Arbitrary<Block> = fc.letrec<{ block: Block; blocks: Block[]; item: Block[] }>((tie) => ({
  block: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    { arbitrary: leafBlock, weight: 6 },
    { arbitrary: tie('blocks').map((content): Block => ({ type: 'blockquote', content })), weight: 1 },
    { arbitrary: fc.array(tie('item'), { minLength: 1, maxLength: 3 }).map((items): Block => ({ type: 'bulletList', items })), weight: 1 },
    { arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), fc.array(tie('item'), { minLength: 1, maxLength: 3 })).map(([start, items]): Block => ({ type: 'orderedList', start, items })), weight: 1 },
  ),
  blocks: fc.array(tie('block'), { minLength: 1, maxLength: 3 }),
  item: fc.oneof(
    fc.tuple(paragraph, fc.array(tie('block'), { maxLength: 2 })).map(([first, rest]) => [first, ...rest]),
    fc.constant<Block[]>([p()]),
    fc.array(tie('block'), { minLength: 1, maxLength: 2 }).filter((bs) => bs[0].type !== 'paragraph').map(fixItem),
  ),
})).block;

const doc = fc.array(block, { minLength: 1, maxLength: 5 });

function allRuns(blocks: Block[]): TextRun[][] {
  return blocks.flatMap((b): TextRun[][] => {
    switch (b.type) {
      case 'paragraph': case 'heading': return [b.content];
      case 'blockquote': return allRuns(b.content);
      case 'bulletList': case 'orderedList': return b.items.flatMap(allRuns);
      default: return [];
    }
  });
}

test('property: canonical documents survive Markdown → blocks → Markdown exactly', () => {
  fc.assert(fc.property(doc, (blocks) => {
    fc.pre(allRuns(blocks).every(nests));
    const md = writeMarkdown(blocks);
    assert.deepEqual(readMarkdown(md), blocks, md);
  }), { numRuns: Number(process.env.RUNS ?? 400) });
});

test('property: the Yjs mapping keeps every block and mark', () => {
  fc.assert(fc.property(doc, (blocks) => {
    const d = new Y.Doc();
    noteFragment(d).insert(0, blocksToY(blocks));
    assert.deepEqual(readNote(d), blocks);
    // And through an update, as another replica receives it.
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(d));
    assert.deepEqual(readNote(other), blocks);
  }), { numRuns: 150 });
});

test('property: any text reads without throwing, and its Markdown is a fixed point', () => {
  const anyText = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '*', '_', '`', '[', ']', '(', ')', '#', '>', '-', '1', '.', '\\', '<', '~', '!'), maxLength: 60 });
  fc.assert(fc.property(anyText, (md) => {
    const once = writeMarkdown(readMarkdown(md));
    assert.equal(writeMarkdown(readMarkdown(once)), once);
  }), { numRuns: 500 });
});

test('pathological input stays fast and shallow', () => {
  const started = Date.now();
  for (const md of [
    '*a '.repeat(20_000), '['.repeat(20_000), '`'.repeat(5000), '>'.repeat(20_000) + ' deep',
    '*a '.repeat(20_000) + 'b' + ' c*'.repeat(20_000), '[a '.repeat(20_000) + '](x)'.repeat(20_000),
    Array.from({ length: 200 }, (_, i) => ' '.repeat(i * 2) + '- x').join('\n'),
  ]) writeMarkdown(readMarkdown(md));
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  // A document that a hostile editor nested hundreds of levels deep reads (cut at a safe depth).
  const d = new Y.Doc();
  let el = new Y.XmlElement('blockquote');
  noteFragment(d).insert(0, [el]);
  for (let i = 0; i < 300; i++) { const n = new Y.XmlElement(i % 2 ? 'blockquote' : 'bulletList'); el.insert(0, [n]); el = n; }
  assert.ok(writeMarkdown(readNote(d)).startsWith('>'));
});
