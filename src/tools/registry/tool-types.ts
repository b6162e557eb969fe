// The tool types this version knows. Adding a tool type: a folder under src/tools/ exporting a
// Tool, one line here (the daemon mounts its routes) and one in tool-infos.ts (the CLI registers
// its commands).
import { TrellisError } from '../../core/errors.ts';
import { calendarTool } from '../calendar/calendar-tool.ts';
import { discussionTool } from '../discussion/discussion-tool.ts';
import type { DocAccess } from '../doc-access.ts';
import { notesTool } from '../notes/notes-tool.ts';
import { tasksTool } from '../tasks/tasks-tool.ts';
import type { Tool, ToolInstance } from '../tool.ts';

export const TOOL_TYPES: readonly Tool[] = [
  notesTool,
  tasksTool,
  calendarTool,
  discussionTool,
];

export function toolType(type: string): Tool {
  const t = TOOL_TYPES.find((x) => x.type === type);
  if (!t) throw new TrellisError('invalid', `unknown tool type "${String(type).slice(0, 40)}": use ${TOOL_TYPES.map((x) => x.type).join(', ')}`);
  return t;
}

/** Adds a tool of a known type to a workspace (managers only). */
export function createTool(access: DocAccess, ws: string, type: string, name: string): ToolInstance {
  return toolType(type).create(access, ws, name);
}
