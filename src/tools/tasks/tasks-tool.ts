// Tasks: a shared to-do list with assignees, due dates, status and comments.
//
// Document shape (one Yjs document per task list):
//   Y.Map 'tasks': task id (16 hex) → Y.Map {
//     title: string, assignee: member key hex or '', due: 'YYYY-MM-DD' or '',
//     status: 'todo' | 'doing' | 'done', createdBy: key hex, createdAt: ms,
//     comments: Y.Array<{ author: key hex, text: string, time: ms }> }
//
// Each field is its own map entry, so two members changing different fields of a task offline both
// keep their change; the same field changed twice resolves to one value on every replica (Yjs).
// Comments are appended, never lost. A task's Y.Map and comments array are created with the task
// by one member, so no two members ever create the same nested type concurrently.
import * as Y from 'yjs';
import { z } from 'zod';
import { TrellisError } from '../../core/errors.ts';
import { findItemId, isItemId, newItemId } from '../common/ids.ts';
import { memberNames, resolveMember } from '../common/members.ts';
import { cleanText, num, str } from '../common/text.ts';
import { atParam, checkDate } from '../common/time.ts';
import type { DocAccess } from '../doc-access.ts';
import { addToolInstance } from '../registry/tool-list.ts';
import { toolRoute, type Tool } from '../tool.ts';
import { STATUSES, TASKS_TYPE, type Task, type TaskComment, type TaskStatus } from './task.ts';
import { tasksInfo } from './tasks-cli.ts';

const TITLE = { max: 500 };
const COMMENT = { max: 16 * 1024, multiline: true };
const TASK_HINT = '`trellis tasks list WS TOOL`';

export interface TaskInput { title: string; assignee?: string; due?: string; status?: string }
export interface TaskChange { title?: string; assignee?: string; due?: string; status?: string }

const tasksOf = (doc: Y.Doc) => doc.getMap<unknown>('tasks');

/** Tasks of a document, by creation time; `names` maps member keys to names. */
export function readTasks(doc: Y.Doc, names: Map<string, string> = new Map()): Task[] {
  const out: Task[] = [];
  for (const [id, v] of tasksOf(doc).entries()) {
    if (!isItemId(id) || !(v instanceof Y.Map)) continue;
    const status = str(v.get('status'));
    const comments = v.get('comments');
    const assignee = str(v.get('assignee'));
    out.push({
      id,
      title: str(v.get('title')),
      assignee,
      assigneeName: names.get(assignee) ?? '',
      due: str(v.get('due')),
      status: (STATUSES as readonly string[]).includes(status) ? status as TaskStatus : 'todo',
      createdBy: str(v.get('createdBy')),
      createdAt: num(v.get('createdAt')),
      comments: comments instanceof Y.Array ? comments.toArray().flatMap((c) => {
        if (typeof c !== 'object' || c === null) return [];
        const r = c as Record<string, unknown>;
        return [{ author: str(r.author), authorName: names.get(str(r.author)) ?? '', text: str(r.text), time: num(r.time) }];
      }) : [],
    });
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

export function listTasks(access: DocAccess, ws: string, list: string, at?: number): Task[] {
  const doc = at === undefined ? access.doc(ws, list) : access.docAt(ws, list, at);
  return readTasks(doc, memberNames(access, ws));
}

function checkStatus(s: string): TaskStatus {
  if (!(STATUSES as readonly string[]).includes(s)) throw new TrellisError('invalid', `unknown status "${s.slice(0, 20)}": use todo, doing or done`);
  return s as TaskStatus;
}

/** '' clears the assignee; anything else must name a member. */
function assigneeKey(access: DocAccess, ws: string, ref: string): string {
  return ref.trim() === '' ? '' : resolveMember(access, ws, ref, 'assignee');
}

const dueDate = (d: string) => (d.trim() === '' ? '' : checkDate('the due date', d.trim()));

export function addTask(access: DocAccess, ws: string, list: string, input: TaskInput): Task {
  const title = cleanText('the title', input.title, TITLE);
  const assignee = assigneeKey(access, ws, input.assignee ?? '');
  const due = dueDate(input.due ?? '');
  const status = checkStatus(input.status ?? 'todo');
  const id = newItemId();
  access.changeDoc(ws, list, (d) => {
    const t = new Y.Map<unknown>();
    t.set('title', title);
    t.set('assignee', assignee);
    t.set('due', due);
    t.set('status', status);
    t.set('createdBy', access.keyHex);
    t.set('createdAt', Date.now());
    t.set('comments', new Y.Array());
    tasksOf(d).set(id, t);
  });
  return findTask(access, ws, list, id);
}

function taskId(access: DocAccess, ws: string, list: string, ref: string): string {
  const map = tasksOf(access.doc(ws, list));
  return findItemId([...map.keys()].filter((k) => map.get(k) instanceof Y.Map), ref, 'task', TASK_HINT);
}

function findTask(access: DocAccess, ws: string, list: string, id: string): Task {
  return listTasks(access, ws, list).find((t) => t.id === id)!;
}

/** Changes the given fields of a task (unset fields stay). */
export function updateTask(access: DocAccess, ws: string, list: string, ref: string, change: TaskChange): Task {
  const id = taskId(access, ws, list, ref);
  const fields: [string, string][] = [];
  if (change.title !== undefined) fields.push(['title', cleanText('the title', change.title, TITLE)]);
  if (change.assignee !== undefined) fields.push(['assignee', assigneeKey(access, ws, change.assignee)]);
  if (change.due !== undefined) fields.push(['due', dueDate(change.due)]);
  if (change.status !== undefined) fields.push(['status', checkStatus(change.status)]);
  if (fields.length === 0) throw new TrellisError('invalid', 'nothing to change: give --status, --title, --assignee or --due');
  access.changeDoc(ws, list, (d) => {
    const t = tasksOf(d).get(id) as Y.Map<unknown>;
    for (const [k, v] of fields) if (t.get(k) !== v) t.set(k, v);
  });
  return findTask(access, ws, list, id);
}

export function commentTask(access: DocAccess, ws: string, list: string, ref: string, text: string): TaskComment {
  const id = taskId(access, ws, list, ref);
  const clean = cleanText('the comment', text, COMMENT);
  const comment = { author: access.keyHex, text: clean, time: Date.now() };
  access.changeDoc(ws, list, (d) => {
    const t = tasksOf(d).get(id) as Y.Map<unknown>;
    let comments = t.get('comments');
    // Only a task written by other software could lack its array; this member then creates it.
    if (!(comments instanceof Y.Array)) { comments = new Y.Array(); t.set('comments', comments); }
    (comments as Y.Array<unknown>).push([comment]);
  });
  return { ...comment, authorName: memberNames(access, ws).get(access.keyHex) ?? '' };
}

// ---- API ----

const optionalText = z.string().optional();
const AddBody = z.object({ title: z.string(), assignee: optionalText, due: optionalText, status: optionalText });
const SetBody = z.object({ title: optionalText, assignee: optionalText, due: optionalText, status: optionalText });
const CommentBody = z.object({ text: z.string() });

const routes = [
  toolRoute({
    method: 'GET',
    path: '/tasks',
    handle: ({ access, ws, instance, query }) => listTasks(access, ws, instance.id, atParam(query)),
  }),
  toolRoute({
    method: 'POST',
    path: '/tasks',
    body: AddBody,
    status: 201,
    handle: ({ access, ws, instance, body }) => addTask(access, ws, instance.id, body),
  }),
  // An update is a POST to the task (the CLI's client speaks GET and POST).
  toolRoute({
    method: 'POST',
    path: '/tasks/:task',
    body: SetBody,
    handle: ({ access, ws, instance, params, body }) => updateTask(access, ws, instance.id, params.task, body),
  }),
  toolRoute({
    method: 'POST',
    path: '/tasks/:task/comments',
    body: CommentBody,
    status: 201,
    handle: ({ access, ws, instance, params, body }) => commentTask(access, ws, instance.id, params.task, body.text),
  }),
];

export const tasksTool: Tool = {
  ...tasksInfo,
  create: (access, ws, name) => addToolInstance(access, ws, TASKS_TYPE, name),
  routes,
};
