// A notes tool instance: connects to the note's live document and shows the editor once the
// first state has arrived (so the editor never starts from an empty copy).
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useApp } from '../app/app-state.tsx';
import { colorOf } from '../lib/format.ts';
import { NoteConnection } from '../notes/note-connection.ts';
import { NoteEditor } from '../notes/NoteEditor.tsx';

export function NotesTool({ ws, note, name, onTyping }: { ws: string; note: string; name: string; onTyping: () => void }) {
  const { me, myKey } = useApp();
  // A new connection (and Y.Doc) after a reset: the daemon's copy replaced ours.
  const [generation, setGeneration] = useState(0);
  // The connection and the generation it belongs to change together, so the view never pairs a new key with an old connection.
  const [current, setCurrent] = useState<{ conn: NoteConnection; generation: number } | null>(null);

  useEffect(() => {
    const c = new NoteConnection(ws, note);
    c.onReset = () => setGeneration((g) => g + 1);
    setCurrent({ conn: c, generation });
    return () => { c.destroy(); };
  }, [ws, note, generation]);

  if (current === null || current.generation !== generation) return null;
  return <NoteView key={`${note}-${current.generation}`} conn={current.conn} name={name} user={{ name: me.name, color: colorOf(myKey) }} onTyping={onTyping} />;
}

function NoteView({ conn, name, user, onTyping }: { conn: NoteConnection; name: string; user: { name: string; color: string }; onTyping: () => void }) {
  const state = useSyncExternalStore((cb) => conn.subscribe(cb), () => conn.state);
  return (
    <div className="notes-tool">
      <div className="tool-status">
        <span className={`sync-pill sync-${state.status}`} data-status={state.status}>
          {state.status === 'synced' ? 'Saved · live' : state.status === 'connecting' ? 'Connecting…' : 'Offline: changes kept here'}
        </span>
        {!state.writable && state.ready && <span className="tag tag-muted">read only</span>}
        {state.error && <span className="error small" role="alert">{state.error}</span>}
      </div>
      {state.ready ? (
        <NoteEditor conn={conn} name={name} user={user} writable={state.writable} onTyping={onTyping} />
      ) : (
        <p className="muted page-pad">Opening the note…</p>
      )}
    </div>
  );
}
