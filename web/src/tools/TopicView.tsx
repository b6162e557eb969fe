// One topic: the opening post and its replies as a thread, reactions, and replying (to the topic
// or to a reply). Opening it marks it read for me.
import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { Reply } from '../api/types.ts';
import { useApp } from '../app/app-state.tsx';
import { Avatar } from '../components/Avatar.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { dateTimeOf, relativeTime } from '../lib/format.ts';
import { useToolData } from './use-tool-data.ts';

const EMOJI = ['👍', '❤️', '🎉', '😄', '🤔'];

interface Props { ws: string; tool: string; topic: string; canWrite: boolean; onTyping: () => void; onBack: () => void; onRead: () => void }

export function TopicView({ ws, tool, topic, canWrite, onTyping, onBack, onRead }: Props) {
  const { data, error, reload } = useToolData(ws, tool, () => api.topic(ws, tool, topic));
  const unread = data?.unread ?? 0;

  useEffect(() => {
    if (unread > 0) void api.markRead(ws, tool, topic).then(onRead, () => undefined);
  }, [ws, tool, topic, unread, onRead]);

  if (error && data === null) return <p className="error page-pad" role="alert">{error}</p>;
  if (data === null) return <p className="muted page-pad">Loading…</p>;
  const children = (parent: string) => data.replies.filter((r, i) => i > 0 && (r.parent || data.replies[0].id) === parent);
  const opening = data.replies[0];

  return (
    <article className="topic" aria-labelledby={`topic-${topic}`}>
      <button type="button" className="button subtle back" onClick={onBack}>‹ Topics</button>
      <h3 id={`topic-${topic}`} className="topic-heading">{data.title}</h3>
      {opening && <Post ws={ws} tool={tool} topic={topic} reply={opening} canWrite={canWrite} onTyping={onTyping} onChanged={reload} depth={0} childrenOf={children} />}
      {canWrite && <ReplyForm ws={ws} tool={tool} topic={topic} onTyping={onTyping} onSent={reload} label="Reply to the topic" />}
    </article>
  );
}

interface PostProps {
  ws: string; tool: string; topic: string; reply: Reply; canWrite: boolean; depth: number;
  onTyping: () => void; onChanged: () => void; childrenOf: (id: string) => Reply[];
}

function Post({ ws, tool, topic, reply, canWrite, depth, onTyping, onChanged, childrenOf }: PostProps) {
  const { myKey } = useApp();
  const notify = useNotify();
  const [replying, setReplying] = useState(false);

  async function react(emoji: string) {
    const mine = reply.reactions[emoji]?.includes(myKey) ?? false;
    try { await api.react(ws, tool, topic, reply.id, emoji, mine); onChanged(); } catch (err) { notify(errorText(err), 'error'); }
  }

  return (
    <div className={depth === 0 ? 'post opening' : 'post'}>
      <div className="post-meta">
        <Avatar name={reply.authorName || '?'} memberKey={reply.author} size="sm" />
        <strong>{reply.authorName || 'unknown'}</strong>
        <time className="muted small" dateTime={new Date(reply.time).toISOString()} title={dateTimeOf(reply.time)}>{relativeTime(reply.time)}</time>
      </div>
      <p className="post-text">{reply.text}</p>
      <div className="post-actions">
        {EMOJI.map((e) => {
          const who = reply.reactions[e] ?? [];
          const mine = who.includes(myKey);
          if (!canWrite && who.length === 0) return null;
          return (
            <button key={e} type="button" className={mine ? 'reaction mine' : who.length > 0 ? 'reaction' : 'reaction empty'} disabled={!canWrite}
              aria-pressed={mine} aria-label={`${e} ${who.length}`} onClick={() => void react(e)}>
              {e}{who.length > 0 && <span>{who.length}</span>}
            </button>
          );
        })}
        {canWrite && <button type="button" className="button subtle small" onClick={() => setReplying((r) => !r)}>Reply</button>}
      </div>
      {replying && <ReplyForm ws={ws} tool={tool} topic={topic} parent={reply.id} onTyping={onTyping} onSent={() => { setReplying(false); onChanged(); }} label={`Reply to ${reply.authorName || 'this post'}`} />}
      <div className="replies">
        {childrenOf(reply.id).map((c) => (
          <Post key={c.id} ws={ws} tool={tool} topic={topic} reply={c} canWrite={canWrite} depth={depth + 1} onTyping={onTyping} onChanged={onChanged} childrenOf={childrenOf} />
        ))}
      </div>
    </div>
  );
}

function ReplyForm({ ws, tool, topic, parent, onTyping, onSent, label }: { ws: string; tool: string; topic: string; parent?: string; onTyping: () => void; onSent: () => void; label: string }) {
  const notify = useNotify();
  const [text, setText] = useState('');
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (text.trim() === '') return;
    try { await api.reply(ws, tool, topic, text.trim(), parent); setText(''); onSent(); } catch (err) { notify(errorText(err), 'error'); }
  }
  return (
    <form className="reply-form" onSubmit={submit}>
      <label className="grow">
        <span className="visually-hidden">{label}</span>
        <textarea rows={2} value={text} placeholder={`${label}…`} onChange={(e) => { setText(e.target.value); onTyping(); }} />
      </label>
      <button type="submit" className="button primary" disabled={text.trim() === ''}>Post</button>
    </form>
  );
}
