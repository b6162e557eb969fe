// A task board: To do / Doing / Done. Cards move by drag and drop, or with the status menu on
// each card (keyboard and screen readers). Clicking a card opens its details and comments.
import { useState, type DragEvent, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import { TASK_STATUSES, type MemberInfo, type Task, type TaskStatus } from '../api/types.ts';
import { Avatar } from '../components/Avatar.tsx';
import { useNotify } from '../components/Toasts.tsx';
import { STATUS_LABEL } from './task-status.ts';
import { TaskDialog } from './TaskDialog.tsx';
import { useToolData } from './use-tool-data.ts';

const DRAG_TYPE = 'application/x-trellis-task';

interface Props { ws: string; tool: string; members: MemberInfo[]; canWrite: boolean }

export function TasksTool({ ws, tool, members, canWrite }: Props) {
  const notify = useNotify();
  const { data: tasks, error, reload } = useToolData(ws, tool, () => api.tasks(ws, tool));
  const [over, setOver] = useState<TaskStatus | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  // Moves shown at once, before the daemon confirms (it answers in a few ms, but drags should feel instant).
  const [pending, setPending] = useState<Record<string, TaskStatus>>({});

  async function move(task: Task, status: TaskStatus) {
    if (task.status === status) return;
    setPending((p) => ({ ...p, [task.id]: status }));
    try {
      await api.updateTask(ws, tool, task.id, { status });
      reload();
    } catch (err) {
      notify(errorText(err), 'error');
    } finally {
      setPending((p) => { const { [task.id]: _, ...rest } = p; return rest; });
    }
  }

  function onDrop(e: DragEvent, status: TaskStatus) {
    e.preventDefault();
    setOver(null);
    const id = e.dataTransfer.getData(DRAG_TYPE);
    const task = tasks?.find((t) => t.id === id);
    if (task) void move(task, status);
  }

  if (error && tasks === null) return <p className="error page-pad" role="alert">{error}</p>;
  if (tasks === null) return <p className="muted page-pad">Loading tasks…</p>;
  const statusOf = (t: Task): TaskStatus => pending[t.id] ?? t.status;
  const openTask = tasks.find((t) => t.id === open);

  return (
    <div className="tasks-tool">
      {canWrite && <NewTask ws={ws} tool={tool} members={members} onAdded={reload} />}
      <div className="board">
        {TASK_STATUSES.map((status) => {
          const column = tasks.filter((t) => statusOf(t) === status);
          return (
            <section
              key={status}
              className={over === status ? 'column drop-target' : 'column'}
              aria-labelledby={`col-${tool}-${status}`}
              data-status={status}
              onDragOver={canWrite ? (e) => { if (e.dataTransfer.types.includes(DRAG_TYPE)) { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; setOver(status); } } : undefined}
              onDragLeave={(e) => { if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(null); }}
              onDrop={canWrite ? (e) => onDrop(e, status) : undefined}
            >
              <header className="column-header">
                <h3 id={`col-${tool}-${status}`}>{STATUS_LABEL[status]}</h3>
                <span className="count">{column.length}</span>
              </header>
              <ul className="cards">
                {column.map((t) => (
                  <li
                    key={t.id}
                    className={`task-card status-${status}`}
                    draggable={canWrite}
                    data-task={t.title}
                    onDragStart={(e) => { e.dataTransfer.setData(DRAG_TYPE, t.id); e.dataTransfer.effectAllowed = 'move'; }}
                    onDragEnd={() => setOver(null)}
                  >
                    <button type="button" className="task-open" onClick={() => setOpen(t.id)} aria-label={`${t.title}: details`}>
                      <span className="task-title">{t.title}</span>
                    </button>
                    <div className="task-meta">
                      {t.assignee && <span className="assignee"><Avatar name={t.assigneeName || '?'} memberKey={t.assignee} size="sm" /> {t.assigneeName}</span>}
                      {t.due && <span className={dueClass(t.due, status)}>due {t.due}</span>}
                      {t.comments.length > 0 && <span className="muted small">{t.comments.length} comment{t.comments.length === 1 ? '' : 's'}</span>}
                      {canWrite && (
                        // Moving without a mouse: the same as dragging to a column.
                        <label className="task-move">
                          <span className="visually-hidden">Status of {t.title}</span>
                          <select value={status} onChange={(e) => void move(t, e.target.value as TaskStatus)}>
                            {TASK_STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
                          </select>
                        </label>
                      )}
                    </div>
                  </li>
                ))}
                {column.length === 0 && <li className="column-empty muted small">{canWrite ? 'Drop tasks here' : 'Nothing here'}</li>}
              </ul>
            </section>
          );
        })}
      </div>
      {openTask && (
        <TaskDialog ws={ws} tool={tool} task={openTask} members={members} canWrite={canWrite} onClose={() => setOpen(null)} onChanged={reload} />
      )}
    </div>
  );
}

function dueClass(due: string, status: TaskStatus): string {
  const today = new Date().toISOString().slice(0, 10);
  return status !== 'done' && due < today ? 'due overdue' : 'due';
}

function NewTask({ ws, tool, members, onAdded }: { ws: string; tool: string; members: MemberInfo[]; onAdded: () => void }) {
  const notify = useNotify();
  const [title, setTitle] = useState('');
  const [assignee, setAssignee] = useState('');
  const [due, setDue] = useState('');

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = title.trim();
    if (t === '') return;
    // Cleared at once, so the next task can be typed while this one is saved.
    setTitle('');
    setDue('');
    try {
      await api.addTask(ws, tool, { title: t, ...(assignee ? { assignee } : {}), ...(due ? { due } : {}) });
      onAdded();
    } catch (err) {
      notify(errorText(err), 'error');
      setTitle((now) => (now === '' ? t : now));
    }
  }

  return (
    <form className="new-task" onSubmit={submit} aria-label="New task">
      <label className="grow">
        <span className="visually-hidden">Task title</span>
        <input value={title} maxLength={500} onChange={(e) => setTitle(e.target.value)} placeholder="Add a task…" />
      </label>
      <label>
        <span className="visually-hidden">Assignee</span>
        <select value={assignee} onChange={(e) => setAssignee(e.target.value)}>
          <option value="">No assignee</option>
          {members.map((m) => <option key={m.key} value={m.key}>{m.name}</option>)}
        </select>
      </label>
      <label>
        <span className="visually-hidden">Due date</span>
        <input type="date" value={due} onChange={(e) => setDue(e.target.value)} />
      </label>
      <button type="submit" className="button primary" disabled={title.trim() === ''}>Add</button>
    </form>
  );
}
