// Formatting buttons: only what notes keep (see src/tools/notes/note-model.ts).
import { useEditorState, type Editor } from '@tiptap/react';

type Action = { label: string; text: string; active: (e: Editor) => boolean; run: (e: Editor) => void };

const ACTIONS: Action[] = [
  { label: 'Bold', text: 'B', active: (e) => e.isActive('bold'), run: (e) => e.chain().focus().toggleBold().run() },
  { label: 'Italic', text: 'I', active: (e) => e.isActive('italic'), run: (e) => e.chain().focus().toggleItalic().run() },
  { label: 'Inline code', text: '</>', active: (e) => e.isActive('code'), run: (e) => e.chain().focus().toggleCode().run() },
  { label: 'Heading 1', text: 'H1', active: (e) => e.isActive('heading', { level: 1 }), run: (e) => e.chain().focus().toggleHeading({ level: 1 }).run() },
  { label: 'Heading 2', text: 'H2', active: (e) => e.isActive('heading', { level: 2 }), run: (e) => e.chain().focus().toggleHeading({ level: 2 }).run() },
  { label: 'Bulleted list', text: '•', active: (e) => e.isActive('bulletList'), run: (e) => e.chain().focus().toggleBulletList().run() },
  { label: 'Numbered list', text: '1.', active: (e) => e.isActive('orderedList'), run: (e) => e.chain().focus().toggleOrderedList().run() },
  { label: 'Quote', text: '❝', active: (e) => e.isActive('blockquote'), run: (e) => e.chain().focus().toggleBlockquote().run() },
  { label: 'Code block', text: '{ }', active: (e) => e.isActive('codeBlock'), run: (e) => e.chain().focus().toggleCodeBlock().run() },
  { label: 'Divider', text: '―', active: () => false, run: (e) => e.chain().focus().setHorizontalRule().run() },
];

export function NoteToolbar({ editor }: { editor: Editor | null }) {
  const active = useEditorState({
    editor,
    selector: ({ editor: e }) => (e ? ACTIONS.map((a) => a.active(e)) : ACTIONS.map(() => false)),
  });
  return (
    <div className="note-toolbar" role="toolbar" aria-label="Formatting">
      {ACTIONS.map((a, i) => (
        <button
          key={a.label}
          type="button"
          className={active?.[i] ? 'tool-button active' : 'tool-button'}
          aria-label={a.label}
          title={a.label}
          aria-pressed={active?.[i] ?? false}
          disabled={editor === null}
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => { if (editor) a.run(editor); }}
        >
          {a.text}
        </button>
      ))}
    </div>
  );
}
