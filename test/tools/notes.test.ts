// Notes over DocAccess: Markdown in and out, appending, concurrent edits by two members merging
// without loss, time travel, large imports split into entry-sized changes, and roles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { MAX_UPDATE_BYTES } from '../../src/tools/common/update-size.ts';
import { MAX_MARKDOWN_BYTES } from '../../src/tools/notes/notes-cli.ts';
import { noteMarkdown, writeNoteMarkdown } from '../../src/tools/notes/notes-tool.ts';
import { noteFragment } from '../../src/tools/notes/note-yjs.ts';
import { createTool } from '../../src/tools/registry/tool-types.ts';
import { memoryWorkspace, sameState, sync, WS } from './memory-access.ts';

const team = () => {
  const [alice, bob, carol] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'participant' }, { name: 'carol', role: 'guest' });
  const note = createTool(alice, WS, 'notes', 'Design').id;
  sync(alice, bob, carol);
  return { alice, bob, carol, note };
};

test('import replaces, append extends, show prints Markdown', () => {
  const { alice, bob, note } = team();
  const md = '# Design\n\nWe use **Yjs** and `libp2p`.\n\n- one\n- two\n';
  assert.equal(writeNoteMarkdown(alice, WS, note, md, 'replace'), 3);
  assert.equal(noteMarkdown(alice, WS, note), md);
  writeNoteMarkdown(alice, WS, note, '> quoted\n', 'append');
  assert.equal(noteMarkdown(alice, WS, note), md + '\n> quoted\n');
  writeNoteMarkdown(alice, WS, note, 'Fresh start.', 'replace');
  sync(alice, bob);
  assert.equal(noteMarkdown(bob, WS, note), 'Fresh start.\n');
  // Replacing with nothing empties the note.
  writeNoteMarkdown(bob, WS, note, '', 'replace');
  assert.equal(noteMarkdown(bob, WS, note), '');
});

test('concurrent offline edits to one note merge without loss; replicas end identical', () => {
  const { alice, bob, note } = team();
  writeNoteMarkdown(alice, WS, note, '# Plan\n\nFirst paragraph.\n', 'replace');
  sync(alice, bob);
  // Offline: alice appends, bob types into the first paragraph and appends too.
  writeNoteMarkdown(alice, WS, note, 'From alice.\n', 'append');
  bob.changeDoc(WS, note, (d) => {
    const para = noteFragment(d).get(1) as Y.XmlElement;
    const text = para.get(0) as Y.XmlText;
    text.insert(text.length - 1, ' (bob was here)', { bold: {} });
  });
  writeNoteMarkdown(bob, WS, note, 'From bob.\n', 'append');
  sync(alice, bob);
  const a = noteMarkdown(alice, WS, note);
  assert.equal(a, noteMarkdown(bob, WS, note));
  assert.match(a, /First paragraph \*\*\(bob was here\)\*\*\./);
  assert.match(a, /From alice\./);
  assert.match(a, /From bob\./);
  assert.ok(sameState(alice.doc(WS, note), bob.doc(WS, note)), 'byte-identical Yjs state');
});

test('time travel shows the note as it was', () => {
  const { alice, note } = team();
  let now = 1_000_000;
  alice.now = () => now;
  writeNoteMarkdown(alice, WS, note, 'Version one.\n', 'replace');
  now = 2_000_000;
  writeNoteMarkdown(alice, WS, note, 'Version two.\n', 'replace');
  assert.equal(noteMarkdown(alice, WS, note, 1_500_000), 'Version one.\n');
  assert.equal(noteMarkdown(alice, WS, note, 2_000_000), 'Version two.\n');
  assert.equal(noteMarkdown(alice, WS, note, 0), '');
});

test('large Markdown is written as several changes, each small enough for one entry', () => {
  const { alice, bob, note } = team();
  const para = 'Lorem **ipsum** dolor sit amet, *consectetur* adipiscing elit. '.repeat(40);
  const md = Array.from({ length: 40 }, (_, i) => `## Part ${i}\n\n${para}\n`).join('\n');
  assert.ok(Buffer.byteLength(md) < MAX_MARKDOWN_BYTES);
  writeNoteMarkdown(alice, WS, note, md, 'replace');
  const changes = alice.log.filter((c) => c.doc === note);
  assert.ok(changes.length > 1, `${changes.length} changes`);
  for (const c of changes) assert.ok(c.update.byteLength <= MAX_UPDATE_BYTES, `${c.update.byteLength} bytes`);
  sync(alice, bob);
  assert.equal(noteMarkdown(bob, WS, note), noteMarkdown(alice, WS, note));
  assert.equal((noteMarkdown(bob, WS, note).match(/^## Part/gm) ?? []).length, 40);
  assert.throws(() => writeNoteMarkdown(alice, WS, note, 'x'.repeat(MAX_MARKDOWN_BYTES + 1), 'replace'), { code: 'invalid' });
  assert.throws(() => writeNoteMarkdown(alice, WS, note, '```\n' + 'y'.repeat(200_000) + '\n```\n', 'replace'), { code: 'invalid', message: /split it/ });
});

test('guests read notes but cannot change them', () => {
  const { alice, carol, note } = team();
  writeNoteMarkdown(alice, WS, note, 'Hello.\n', 'replace');
  sync(alice, carol);
  assert.equal(noteMarkdown(carol, WS, note), 'Hello.\n');
  assert.throws(() => writeNoteMarkdown(carol, WS, note, 'Mine.\n', 'append'), { code: 'forbidden' });
});
