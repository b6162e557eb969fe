// A task's details: title, assignee, due date, status, and its comments.
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { TASK_STATUSES, type MemberInfo, type Task, type TaskStatus } from '../api/types.ts';
import { Dialog } from '../components/Dialog.tsx';
import { dateTimeOf } from '../lib/format.ts';
import { STATUS_LABEL } from './task-status.ts';

interface Props {
  ws: string;
  tool: string;
  task: Task;
  members: MemberInfo[];
  canWrite: boolean;
  onClose: () => void;
  onChanged: () => void;
}

export function TaskDialog({ ws, tool, task, members, canWrite, onClose, onChanged }: Props) {
  const [title, setTitle] = useState(task.title);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function change(c: { title?: string; assignee?: string; due?: string; status?: TaskStatus }) {
    setError(null);
    try { await api.updateTask(ws, tool, task.id, c); onChanged(); } catch (err) { setError(errorText(err)); }
  }

  async function addComment(e: FormEvent) {
    e.preventDefault();
    if (comment.trim() === '') return;
    setError(null);
    try { await api.commentTask(ws, tool, task.id, comment.trim()); setComment(''); onChanged(); } catch (err) { setError(errorText(err)); }
  }

  return (
    <Dialog title="Task" open onClose={onClose}>
      <div className="stack">
        <label className="field">
          <span>Title</span>
          <input value={title} disabled={!canWrite} maxLength={500} onChange={(e) => setTitle(e.target.value)}
            onBlur={() => { if (title.trim() !== '' && title !== task.title) void change({ title: title.trim() }); }} />
        </label>
        <div className="row wrap">
          <label className="field">
            <span>Status</span>
            <select value={task.status} disabled={!canWrite} onChange={(e) => void change({ status: e.target.value as TaskStatus })}>
              {TASK_STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
            </select>
          </label>
          <label className="field">
            <span>Assignee</span>
            <select value={task.assignee} disabled={!canWrite} onChange={(e) => void change({ assignee: e.target.value })}>
              <option value="">No assignee</option>
              {members.map((m) => <option key={m.key} value={m.key}>{m.name}</option>)}
            </select>
          </label>
          <label className="field">
            <span>Due</span>
            <input type="date" value={task.due} disabled={!canWrite} onChange={(e) => void change({ due: e.target.value })} />
          </label>
        </div>
        <section aria-label="Comments">
          <h3 className="subheading">Comments</h3>
          <ul className="comments">
            {task.comments.map((c, i) => (
              <li key={i}><strong>{c.authorName || 'unknown'}</strong> <span className="muted small">{dateTimeOf(c.time)}</span><p>{c.text}</p></li>
            ))}
            {task.comments.length === 0 && <li className="muted small">No comments yet.</li>}
          </ul>
          {canWrite && (
            <form className="row" onSubmit={addComment}>
              <label className="grow">
                <span className="visually-hidden">Comment</span>
                <input value={comment} onChange={(e) => setComment(e.target.value)} placeholder="Add a comment…" />
              </label>
              <button type="submit" className="button" disabled={comment.trim() === ''}>Comment</button>
            </form>
          )}
        </section>
        {error && <p className="error" role="alert">{error}</p>}
        <p className="muted small">Created {dateTimeOf(task.createdAt)}</p>
      </div>
    </Dialog>
  );
}
