// Notes: rich text that several members edit at once.
//
// Document shape (one Yjs document per note): Y.XmlFragment 'prosemirror' holding
// paragraph / heading{level} / bulletList / orderedList{start} / listItem / codeBlock{language} /
// blockquote / horizontalRule elements, text as Y.XmlText with bold / italic / code / link{href}
// formatting (note-yjs.ts). That is what y-prosemirror binds a TipTap editor to, so the web UI
// edits the same document the CLI reads and writes as Markdown.
//
// Concurrent edits merge as Yjs merges them: nothing typed by anyone is lost. An import replaces
// what this replica sees; text another member adds at the same time stays.
import { z } from 'zod';
import { TrellisError } from '../../core/errors.ts';
import { atParam } from '../common/time.ts';
import { MAX_UPDATE_BYTES, updateSizeOf } from '../common/update-size.ts';
import type { DocAccess } from '../doc-access.ts';
import { addToolInstance } from '../registry/tool-list.ts';
import { toolRoute, type Tool } from '../tool.ts';
import { readMarkdown } from './markdown-read.ts';
import { writeMarkdown } from './markdown-write.ts';
import type { Block } from './note-model.ts';
import { blocksToY, noteFragment, readNote } from './note-yjs.ts';
import { MAX_MARKDOWN_BYTES, NOTES_TYPE, notesInfo, type WriteMode } from './notes-cli.ts';

/** The note as Markdown; with `at`, as it was then. */
export function noteMarkdown(access: DocAccess, ws: string, note: string, at?: number): string {
  const doc = at === undefined ? access.doc(ws, note) : access.docAt(ws, note, at);
  return writeMarkdown(readNote(doc));
}

/**
 * Replaces or extends the note with Markdown. Large content is written as several changes (each
 * one entry), none larger than an entry may be; returns how many blocks were written.
 */
export function writeNoteMarkdown(access: DocAccess, ws: string, note: string, markdown: string, mode: WriteMode): number {
  const bytes = Buffer.byteLength(markdown, 'utf8');
  if (bytes > MAX_MARKDOWN_BYTES) throw new TrellisError('invalid', `the Markdown is ${bytes} bytes; the limit is ${MAX_MARKDOWN_BYTES}`);
  const blocks = readMarkdown(markdown);
  const chunks = chunkBlocks(blocks);
  if (mode === 'replace') {
    access.changeDoc(ws, note, (d) => {
      const f = noteFragment(d);
      if (f.length > 0) f.delete(0, f.length);
      if (chunks.length > 0) f.insert(0, blocksToY(chunks[0]));
    });
    chunks.shift();
  }
  for (const chunk of chunks) {
    access.changeDoc(ws, note, (d) => {
      const f = noteFragment(d);
      f.insert(f.length, blocksToY(chunk));
    });
  }
  return blocks.length;
}

/** Groups blocks into changes that each stay within one entry. */
function chunkBlocks(blocks: Block[]): Block[][] {
  const chunks: Block[][] = [];
  let current: Block[] = [];
  let size = 0;
  for (const b of blocks) {
    const n = updateSizeOf((d) => { d.getXmlFragment('x').insert(0, blocksToY([b])); });
    if (n > MAX_UPDATE_BYTES) throw new TrellisError('invalid', `one block of this Markdown needs ${Math.ceil(n / 1024)} KiB; a block may take at most ${MAX_UPDATE_BYTES / 1024} KiB: split it`);
    // Sizes measured one block at a time add up to a little less than the blocks together (clock
    // numbers grow, so references take more bytes): keep a margin.
    if (size + n > MAX_UPDATE_BYTES * 0.85 && current.length > 0) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(b);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const MarkdownBody = z.object({
  markdown: z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_MARKDOWN_BYTES, `must be at most ${MAX_MARKDOWN_BYTES} bytes of UTF-8`),
  mode: z.enum(['replace', 'append'], { error: 'must be "replace" or "append"' }),
});

const routes = [
  toolRoute({
    method: 'GET',
    path: '/markdown',
    handle: ({ access, ws, instance, query }) => ({ markdown: noteMarkdown(access, ws, instance.id, atParam(query)) }),
  }),
  toolRoute({
    method: 'POST',
    path: '/markdown',
    body: MarkdownBody,
    handle: ({ access, ws, instance, body }) => ({ blocks: writeNoteMarkdown(access, ws, instance.id, body.markdown, body.mode) }),
  }),
];

export const notesTool: Tool = {
  ...notesInfo,
  create: (access, ws, name) => addToolInstance(access, ws, NOTES_TYPE, name),
  routes,
};
