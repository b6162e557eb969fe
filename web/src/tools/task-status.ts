// How task statuses are named on screen.
import type { TaskStatus } from '../api/types.ts';

export const STATUS_LABEL: Record<TaskStatus, string> = { todo: 'To do', doing: 'Doing', done: 'Done' };
