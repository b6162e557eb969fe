// A note in TipTap, bound to the note's Yjs document (the 'prosemirror' fragment that the CLI
// reads as Markdown), with the other editors' cursors and names.
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { EditorContent, useEditor } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import { useEffect } from 'react';
import { NoteToolbar } from './NoteToolbar.tsx';
import type { NoteConnection } from './note-connection.ts';

interface Props {
  conn: NoteConnection;
  name: string;
  user: { name: string; color: string };
  writable: boolean;
  onTyping: () => void;
}

export function NoteEditor({ conn, name, user, writable, onTyping }: Props) {
  const editor = useEditor({
    // The daemon's CSP refuses inline <style>: the editor's base styles are in our stylesheet.
    injectCSS: false,
    editable: writable,
    extensions: [
      // Marks and nodes the note model (src/tools/notes/note-model.ts) keeps; history is Yjs's.
      StarterKit.configure({ undoRedo: false, strike: false, underline: false, link: { openOnClick: false, autolink: true } }),
      Collaboration.configure({ document: conn.doc, field: 'prosemirror' }),
      CollaborationCaret.configure({ provider: conn, user }),
    ],
    editorProps: {
      attributes: { class: 'note-content', 'aria-label': `Note: ${name}`, 'aria-multiline': 'true', role: 'textbox', spellcheck: 'true' },
      handleKeyDown: () => { onTyping(); return false; },
    },
  }, [conn]);

  useEffect(() => { editor?.setEditable(writable); }, [editor, writable]);

  return (
    <div className="note-editor">
      {writable && <NoteToolbar editor={editor} />}
      <EditorContent editor={editor} className="note-surface" />
    </div>
  );
}
