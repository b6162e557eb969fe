// Discussion: threaded topics beside the flat chat, with unread counts per topic.
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { useNotify } from '../components/Toasts.tsx';
import { relativeTime } from '../lib/format.ts';
import { TopicView } from './TopicView.tsx';
import { useToolData } from './use-tool-data.ts';

export function DiscussionTool({ ws, tool, canWrite, onTyping }: { ws: string; tool: string; canWrite: boolean; onTyping: () => void }) {
  const { data: topics, error, reload } = useToolData(ws, tool, () => api.topics(ws, tool));
  const [open, setOpen] = useState<string | null>(null);
  const [composing, setComposing] = useState(false);

  if (error && topics === null) return <p className="error page-pad" role="alert">{error}</p>;

  return (
    <div className={open ? 'discussion-tool topic-open' : 'discussion-tool'}>
      <section className="topic-list" aria-label="Topics">
        <div className="row spread">
          <h3 className="subheading">Topics</h3>
          {canWrite && <button type="button" className="button primary" onClick={() => { setComposing(true); setOpen(null); }}>New topic</button>}
        </div>
        <ul>
          {topics?.map((t) => (
            <li key={t.id}>
              <button type="button" className={open === t.id ? 'topic-item current' : 'topic-item'} aria-current={open === t.id ? 'true' : undefined}
                onClick={() => { setOpen(t.id); setComposing(false); }}>
                <span className="topic-title">{t.title}</span>
                <span className="muted small">{t.authorName || 'unknown'} · {t.posts} post{t.posts === 1 ? '' : 's'} · {relativeTime(t.lastTime)}</span>
                {t.unread > 0 && <span className="badge" aria-label={`${t.unread} unread`}>{t.unread}</span>}
              </button>
            </li>
          ))}
          {topics?.length === 0 && <li className="muted small empty-note">No topics yet.</li>}
          {topics === null && <li className="muted small">Loading…</li>}
        </ul>
      </section>
      <section className="topic-pane" aria-label="Topic">
        {composing ? (
          <NewTopic ws={ws} tool={tool} onTyping={onTyping} onCreated={(id) => { setComposing(false); setOpen(id); reload(); }} onCancel={() => setComposing(false)} />
        ) : open ? (
          <TopicView ws={ws} tool={tool} topic={open} canWrite={canWrite} onTyping={onTyping} onBack={() => setOpen(null)} onRead={reload} />
        ) : (
          <p className="muted page-pad">Choose a topic{canWrite ? ', or start one' : ''}.</p>
        )}
      </section>
    </div>
  );
}

function NewTopic({ ws, tool, onTyping, onCreated, onCancel }: { ws: string; tool: string; onTyping: () => void; onCreated: (id: string) => void; onCancel: () => void }) {
  const notify = useNotify();
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      const t = await api.newTopic(ws, tool, title.trim(), text.trim());
      onCreated(t.id);
    } catch (err) {
      notify(errorText(err), 'error');
      setBusy(false);
    }
  }
  return (
    <form className="stack page-pad" onSubmit={submit} aria-label="New topic">
      <label className="field"><span>Title</span><input required autoFocus maxLength={500} value={title} onChange={(e) => setTitle(e.target.value)} /></label>
      <label className="field"><span>Opening post</span><textarea required rows={6} value={text} onChange={(e) => { setText(e.target.value); onTyping(); }} /></label>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>Cancel</button>
        <button type="submit" className="button primary" disabled={busy || title.trim() === '' || text.trim() === ''}>Post topic</button>
      </div>
    </form>
  );
}
