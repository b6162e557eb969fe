// The workspace chat, always beside the tools. Enter sends, Shift+Enter starts a new line.
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { ChatMessage } from '../api/types.ts';
import { useApp, usePeerEvents } from '../app/app-state.tsx';
import { Avatar } from '../components/Avatar.tsx';
import { dateTimeOf, timeOf } from '../lib/format.ts';

/** Messages closer than this by the same author share one header. */
const GROUP_MS = 5 * 60_000;

export function ChatPanel({ ws, onTyping, canWrite }: { ws: string; onTyping: () => void; canWrite: boolean }) {
  const { myKey, readChat, setChatOnScreen } = useApp();
  const [log, setLog] = useState<ChatMessage[] | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let live = true;
    api.chat(ws).then((l) => { if (live) setLog(l); }, (err: unknown) => { if (live) setError(errorText(err)); });
    setChatOnScreen(ws);
    return () => { live = false; setChatOnScreen(undefined); };
  }, [ws, setChatOnScreen]);

  usePeerEvents((e) => {
    if (e.type !== 'chat' || e.workspace !== ws) return;
    setLog((l) => (l === null || l.some((m) => m.id === e.message.id) ? l : insertOrdered(l, e.message)));
  });

  const lastId = log?.[log.length - 1]?.id;
  useEffect(() => { if (lastId !== undefined) readChat(ws, lastId); }, [ws, lastId, readChat]);

  // Follow new messages unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  async function send(e?: FormEvent) {
    e?.preventDefault();
    const t = text.trim();
    if (t === '' || sending) return;
    setSending(true);
    setError(null);
    try {
      const m = await api.sendChat(ws, t);
      setText('');
      stick.current = true;
      setLog((l) => (l === null || l.some((x) => x.id === m.id) ? l : insertOrdered(l, m)));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSending(false);
    }
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  return (
    <section className="chat panel" aria-labelledby={`chat-${ws}`}>
      <header className="panel-header">
        <h2 id={`chat-${ws}`}>Chat</h2>
      </header>
      <ol
        className="chat-log"
        ref={list}
        aria-live="polite"
        aria-relevant="additions"
        tabIndex={0}
        aria-label="Messages"
        onScroll={(e) => { const el = e.currentTarget; stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40; }}
      >
        {log === null && <li className="muted small">Loading…</li>}
        {log?.length === 0 && <li className="muted small chat-empty">No messages yet. Say hello!</li>}
        {log?.map((m, i) => {
          const prev = log[i - 1];
          const grouped = prev !== undefined && prev.author === m.author && m.time - prev.time < GROUP_MS;
          const mine = m.author === myKey;
          return (
            <li key={m.id} className={`chat-message${grouped ? ' grouped' : ''}${mine ? ' mine' : ''}`} data-author={m.authorName}>
              {!grouped && (
                <div className="chat-meta">
                  <Avatar name={m.authorName || '?'} memberKey={m.author} size="sm" />
                  <span className="chat-author">{m.authorName || 'unknown'}</span>
                  <time className="muted small" dateTime={new Date(m.time).toISOString()} title={dateTimeOf(m.time)}>{timeOf(m.time)}</time>
                </div>
              )}
              <p className="chat-text">{m.text}</p>
            </li>
          );
        })}
      </ol>
      {canWrite ? (
      <form className="chat-compose" onSubmit={send}>
        <label className="visually-hidden" htmlFor={`chat-input-${ws}`}>Message</label>
        <textarea
          id={`chat-input-${ws}`}
          rows={1}
          value={text}
          placeholder="Write a message…"
          onChange={(e) => { setText(e.target.value); onTyping(); }}
          onKeyDown={onKey}
        />
        <button type="submit" className="button primary" disabled={sending || text.trim() === ''} aria-label="Send message">Send</button>
      </form>
      ) : <p className="muted small chat-readonly">Your role may read the chat but not write in it.</p>}
      {error && <p className="error small" role="alert">{error}</p>}
    </section>
  );
}

/** Messages arrive in any order across members; the daemon's log order is by time of writing. */
function insertOrdered(log: ChatMessage[], m: ChatMessage): ChatMessage[] {
  const out = [...log];
  let i = out.length;
  while (i > 0 && out[i - 1].time > m.time) i--;
  out.splice(i, 0, m);
  return out;
}
