// Type-level check, run by `npm run typecheck` (not a test file): what the daemon sends must fit
// the shapes the web UI reads (web/src/api/types.ts). A field renamed or retyped on the daemon
// side and not in the UI fails the type check here instead of a page at run time.
import type * as Web from '../../web/src/api/types.ts';
import type { PermissionTable } from '../../src/core/membership.ts';
import type { AuditItem, ChatMessage, HistoryVerification, InviteInfo, MemberInfo, PeerEvent, PeerStatus, WorkspaceInfo } from '../../src/peer-api.ts';
import type { CalendarEvent } from '../../src/tools/calendar/event.ts';
import type { Reply, Topic, TopicSummary } from '../../src/tools/discussion/topic.ts';
import type { FileInfo, FileProgressEvent, VersionInfo } from '../../src/tools/files/files-service.ts';
import type { HistoryRow } from '../../src/tools/registry/history.ts';
import type { Task } from '../../src/tools/tasks/task.ts';
import type { ToolInstance } from '../../src/tools/tool.ts';
import type { PendingJoinInfo } from '../../src/relay/relay-joins.ts';
import type { RelayLinkInfo } from '../../src/relay/relay-links.ts';

type Fits<Sent, Read> = [Sent] extends [Read] ? true : never;

export const daemonShapesFitTheUi: [
  Fits<PeerStatus, Web.PeerStatus>,
  Fits<WorkspaceInfo, Web.WorkspaceInfo>,
  Fits<MemberInfo, Web.MemberInfo>,
  Fits<HistoryVerification, Web.HistoryVerification>,
  Fits<ChatMessage, Web.ChatMessage>,
  Fits<AuditItem, Web.AuditItem>,
  Fits<InviteInfo, Web.InviteInfo>,
  Fits<PermissionTable, Web.PermissionTable>,
  Fits<ToolInstance, Web.ToolInstance>,
  Fits<Task, Web.Task>,
  Fits<CalendarEvent, Web.CalendarEvent>,
  Fits<TopicSummary, Web.TopicSummary>,
  Fits<Topic, Web.Topic>,
  Fits<Reply, Web.Reply>,
  Fits<HistoryRow, Web.HistoryRow>,
  Fits<FileInfo, Web.FileInfo>,
  Fits<VersionInfo, Web.VersionInfo>,
  Fits<FileProgressEvent, Web.FileProgressEvent>,
  Fits<RelayLinkInfo, Web.RelayLinkInfo>,
  Fits<PendingJoinInfo, Web.PendingJoinInfo>,
  // Events the UI does not know are ignored; those it knows must keep their shape.
  Fits<Extract<PeerEvent, { type: Web.PeerEvent['type'] }>, Web.PeerEvent>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
