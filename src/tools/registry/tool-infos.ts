// The tool types as the CLI sees them: their command groups. A twin of tool-types.ts that imports
// only the tools' `*-cli.ts` modules, so `trellis` starts without loading Yjs and zod (about a
// quarter of a second per command). test/tools/registry.test.ts keeps the two lists in step.
import { calendarInfo } from '../calendar/calendar-cli.ts';
import { discussionInfo } from '../discussion/discussion-cli.ts';
import { notesInfo } from '../notes/notes-cli.ts';
import { tasksInfo } from '../tasks/tasks-cli.ts';
import type { ToolInfo } from '../tool.ts';

export const TOOL_INFOS: readonly ToolInfo[] = [
  notesInfo,
  tasksInfo,
  calendarInfo,
  discussionInfo,
];
