// The shapes the daemon's API answers with, as the browser sees them (JSON). They mirror
// src/peer-api.ts and the tool modules under src/tools/; test/web/api-types.ts makes the type
// checker compare the two, so a change on one side that the other misses fails `npm run typecheck`.

export type Role = 'manager' | 'participant' | 'guest';
export const ROLES: readonly Role[] = ['manager', 'participant', 'guest'];

export interface IdentityInfo { exists: boolean; name: string | null }

export interface PeerStatus {
  name: string;
  peerId: string;
  addrs: string[];
  connections: number;
  workspaces: number;
}

export interface WorkspaceInfo {
  id: string;
  name: string;
  role: Role | 'removed';
  members: number;
}

export interface MemberInfo {
  name: string;
  key: string;
  role: Role;
  online: boolean;
  status?: 'online' | 'idle' | 'offline';
  tool?: string;
  typing?: boolean;
  /** The call they are in (32 hex), from presence. */
  call?: string;
}

/** WebRTC signalling between members' browsers, carried by the daemons (src/workspace/call-signal.ts). */
export interface CallSignal {
  call: string;
  type: 'offer' | 'answer' | 'ice' | 'bye';
  sdp?: string;
  candidate?: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };
}

/** GET /api/workspaces/:ws/verify: the whole history re-checked, and its fingerprint. */
export interface HistoryVerification {
  workspace: string;
  entries: number;
  authors: { key: string; name: string; seq: number; head: string }[];
  problems: { author: string; seq: number; kind: string; detail: string }[];
  forks: number;
  fingerprint: string;
}

export interface ChatMessage {
  id: string;
  author: string;
  authorName: string;
  text: string;
  time: number;
}

export interface AuditItem { author: string; authorName: string; seq: number; reason: string }

export interface PermissionTable { chat: Role[]; doc: Role[] }

export interface ToolInstance { id: string; type: string; name: string; createdBy: string; createdAt: number }
export interface ToolType { type: string; description: string }

export type TaskStatus = 'todo' | 'doing' | 'done';
export const TASK_STATUSES: readonly TaskStatus[] = ['todo', 'doing', 'done'];
export interface TaskComment { author: string; authorName: string; text: string; time: number }
export interface Task {
  id: string;
  title: string;
  assignee: string;
  assigneeName: string;
  due: string;
  status: TaskStatus;
  createdBy: string;
  createdAt: number;
  comments: TaskComment[];
}

export interface CalendarEvent {
  id: string;
  title: string;
  start: string;
  end: string;
  place: string;
  attendees: string[];
  attendeeNames: string[];
  agenda: string;
  createdBy: string;
}

export interface TopicSummary {
  id: string;
  title: string;
  author: string;
  authorName: string;
  time: number;
  posts: number;
  unread: number;
  lastTime: number;
}
export interface Reply {
  id: string;
  author: string;
  authorName: string;
  text: string;
  time: number;
  parent: string;
  reactions: Record<string, string[]>;
}
export interface Topic extends TopicSummary { replies: Reply[] }

export interface HistoryRow {
  id: string;
  author: string;
  authorName: string;
  kind: 'control' | 'chat' | 'doc';
  tool?: string;
  time: number;
}

export interface FileInfo {
  name: string;
  version: number;
  id: string;
  versions: number;
  size: number;
  author: string;
  authorName: string;
  time: number;
  deleted: boolean;
  local: boolean;
}

export interface VersionInfo {
  id: string;
  version: number;
  size: number;
  author: string;
  authorName: string;
  time: number;
  deleted: boolean;
  restoredFrom?: number;
  local: boolean;
}

export interface FileProgressEvent {
  type: 'file-progress';
  workspace: string;
  name: string;
  op: 'add' | 'get';
  done: number;
  total: number;
  job?: string;
}

export interface RelayLinkInfo {
  key: string;
  addrs: string[];
  /** The manager who attached it. */
  by: string;
  connected: boolean;
  error?: { code: string; message: string; at: number };
}

export interface PendingJoinInfo {
  workspace: string;
  name: string;
  state: 'queued' | 'joining' | 'refused' | 'expired';
  relay?: string;
  since: number;
  reason?: string;
}

export type PeerEvent =
  | { type: 'chat'; workspace: string; message: ChatMessage }
  | { type: 'members'; workspace: string }
  | { type: 'workspace'; workspace: string }
  | { type: 'doc'; workspace: string; doc: string }
  | { type: 'removed'; workspace: string }
  | { type: 'presence'; workspace: string; member: string }
  | { type: 'rejected'; workspace: string; author: string; reason: string }
  | { type: 'call-signal'; workspace: string; from: string; signal: CallSignal }
  | FileProgressEvent;

/** An invitation this device issued, and what became of it (GET /api/workspaces/:ws/invites). */
export interface InviteInfo {
  id: string;
  role: string;
  expires: number;
  state: 'open' | 'used' | 'expired' | 'revoked';
  usedBy?: string;
  usedByName?: string;
  revokedBy?: string;
}
