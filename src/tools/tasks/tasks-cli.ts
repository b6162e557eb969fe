// The tasks commands of the CLI: `trellis tasks add|list|set|comment WS TOOL …`. Light on purpose
// (no Yjs, no zod): the CLI loads it on every start.
import type { ToolCli, ToolInfo } from '../tool.ts';
import { TASKS_TYPE, type Task, type TaskComment } from './task.ts';

const words = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));

function printTasks(cli: ToolCli, tasks: Task[]): void {
  if (tasks.length === 0) { cli.print('no tasks yet: add one with `trellis tasks add WS TOOL TITLE`'); return; }
  cli.table(tasks.map((t) => [
    t.id, t.status, t.due || '-', t.assignee === '' ? '-' : t.assigneeName || t.assignee.slice(0, 12), t.comments.length > 0 ? String(t.comments.length) : '', t.title,
  ]), ['ID', 'STATUS', 'DUE', 'ASSIGNEE', 'COMMENTS', 'TITLE']);
}

export const tasksInfo: ToolInfo = {
  type: TASKS_TYPE,
  description: 'task lists: assignee, due date, status, comments',
  commands: [
    {
      name: 'add',
      description: 'add a task',
      args: [{ name: 'title', description: 'the task (several words are joined)', variadic: true }],
      options: [
        { flags: '--assignee <member>', description: 'member name or key' },
        { flags: '--due <date>', description: 'due date, YYYY-MM-DD' },
        { flags: '--status <status>', description: 'todo (default), doing or done' },
        { flags: '--json', description: 'print the task as JSON' },
      ],
      async run(cli, [title], opts) {
        const t = await cli.post<Task>('/tasks', { title: words(title), assignee: opts.assignee, due: opts.due, status: opts.status });
        if (opts.json) cli.json(t);
        else cli.print(t.id);
      },
    },
    {
      name: 'list',
      description: 'list the tasks, oldest first',
      options: [
        { flags: '--at <time>', description: 'as they were at this ISO 8601 time' },
        { flags: '--json', description: 'machine-readable output' },
      ],
      async run(cli, _args, opts) {
        const tasks = await cli.get<Task[]>('/tasks', { at: opts.at as string | undefined });
        if (opts.json) cli.json(tasks);
        else printTasks(cli, tasks);
      },
    },
    {
      name: 'set',
      description: 'change a task',
      args: [{ name: 'task', description: 'task id (or its first characters)' }],
      options: [
        { flags: '--status <status>', description: 'todo, doing or done' },
        { flags: '--title <title>', description: 'new title' },
        { flags: '--assignee <member>', description: 'member name or key; "" to unassign' },
        { flags: '--due <date>', description: 'YYYY-MM-DD; "" to clear' },
        { flags: '--json', description: 'print the task as JSON' },
      ],
      async run(cli, [task], opts) {
        const t = await cli.post<Task>(`/tasks/${encodeURIComponent(task as string)}`, { status: opts.status, title: opts.title, assignee: opts.assignee, due: opts.due });
        if (opts.json) cli.json(t);
      },
    },
    {
      name: 'comment',
      description: 'comment on a task',
      args: [{ name: 'task', description: 'task id (or its first characters)' }, { name: 'text', description: 'the comment', variadic: true }],
      options: [{ flags: '--json', description: 'print the comment as JSON' }],
      async run(cli, [task, text], opts) {
        const c = await cli.post<TaskComment>(`/tasks/${encodeURIComponent(task as string)}/comments`, { text: words(text) });
        if (opts.json) cli.json(c);
      },
    },
  ],
};
