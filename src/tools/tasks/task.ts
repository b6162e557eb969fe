// A task as the tasks tool returns it (API, SDK, CLI --json), and the values its fields take.
export const TASKS_TYPE = 'tasks';
export const STATUSES = ['todo', 'doing', 'done'] as const;
export type TaskStatus = (typeof STATUSES)[number];

export interface TaskComment {
  author: string;
  authorName: string;
  text: string;
  time: number;
}

export interface Task {
  id: string;
  title: string;
  /** Member key (hex) or ''. */
  assignee: string;
  assigneeName: string;
  /** YYYY-MM-DD or ''. */
  due: string;
  status: TaskStatus;
  createdBy: string;
  createdAt: number;
  comments: TaskComment[];
}
