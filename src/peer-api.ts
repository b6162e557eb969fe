// The shapes the Peer (SDK entry point) hands to its callers: daemon, CLI, tests, benchmarks.
// Keys and ids are lowercase hex strings here; raw bytes stay inside the lower layers.

import type { Role } from './core/membership.ts';
export type { Role };
export const ROLES: readonly Role[] = ['manager', 'participant', 'guest'];

export interface WorkspaceInfo {
  id: string;
  name: string;
  /** This peer's role in it; 'removed' once a manager removed us (or we left). */
  role: Role | 'removed';
  members: number;
}

export interface MemberInfo {
  name: string;
  /** Ed25519 public key, hex. */
  key: string;
  role: Role;
  online: boolean;
  /** Presence: offline, online, or idle (no activity for 15 minutes). */
  status?: 'online' | 'idle' | 'offline';
  /** The tool they have open, when they say. */
  tool?: string;
  typing?: boolean;
  /** Where their cursor is in a document: opaque editor data (a Yjs awareness state), from presence. */
  cursor?: { doc: string; data: string };
  /** The call they are in (32 hex), from presence: join it to talk with them. */
  call?: string;
}

import type { ChatMessage } from './tools/chat/chat-tool.ts';
export type { ChatMessage };

export interface PeerStatus {
  name: string;
  peerId: string;
  addrs: string[];
  connections: number;
  workspaces: number;
}

export interface InviteOptions {
  /** The new member's role, or 'device' to add a second device of our own identity. */
  role?: Role | 'device';
  /** Lifetime in ms; default 7 days. */
  expiresInMs?: number;
}

/** An invitation this device issued, and what became of it. */
export interface InviteInfo {
  /** The invitation's id (hex): the public key its secret seeds. */
  id: string;
  role: string;
  expires: number;
  /** open: may still be used; used: it admitted `usedBy`; expired; revoked (by `revokedBy`). */
  state: 'open' | 'used' | 'expired' | 'revoked';
  usedBy?: string;
  usedByName?: string;
  revokedBy?: string;
}

/** An entry that was refused or is stored without effect (the audit trail managers see). */
export interface AuditItem {
  author: string;
  authorName: string;
  seq: number;
  reason: string;
}

/** Events a Peer emits (the daemon forwards them on its WebSocket). */
export type PeerEvent =
  | { type: 'chat'; workspace: string; message: ChatMessage }
  | { type: 'members'; workspace: string }
  | { type: 'workspace'; workspace: string }
  | { type: 'doc'; workspace: string; doc: string }
  | { type: 'removed'; workspace: string }
  | { type: 'presence'; workspace: string; member: string }
  | { type: 'rejected'; workspace: string; author: string; reason: string }
  /** A call signal for us from `from` (a member's key): for our browser's WebRTC connection. */
  | { type: 'call-signal'; workspace: string; from: string; signal: CallSignal }
  | FileProgressEvent;

import type { FileProgressEvent } from './tools/files/files-service.ts';
import type { CallSignal } from './workspace/call-signal.ts';
export type { CallSignal };
export type { FileProgressEvent };

// What the tools return (API, SDK): the tool list, history rows, tasks, events, topics.
export type { ToolInstance } from './tools/tool.ts';
export type { HistoryRow } from './tools/registry/history.ts';
export type { Task, TaskComment, TaskStatus } from './tools/tasks/task.ts';
export type { CalendarEvent, ImportResult } from './tools/calendar/event.ts';
export type { Reply, Topic, TopicSummary } from './tools/discussion/topic.ts';

export { MAX_CHAT_BYTES, MAX_NAME_CHARS } from './core/limits.ts';

/** `trellis verify`: the whole stored history re-checked (core/history-audit.ts), with names. */
export interface HistoryVerification {
  workspace: string;
  entries: number;
  authors: { key: string; name: string; seq: number; head: string }[];
  problems: { author: string; seq: number; kind: string; detail: string }[];
  /** Fork proofs held: authors who signed two different entries at one seq (their later entries are void). */
  forks: number;
  fingerprint: string;
}
