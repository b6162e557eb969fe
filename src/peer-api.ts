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
  role?: Role;
  /** Lifetime in ms; default 7 days. */
  expiresInMs?: number;
}

/** Events a Peer emits (the daemon forwards them on its WebSocket). */
export type PeerEvent =
  | { type: 'chat'; workspace: string; message: ChatMessage }
  | { type: 'members'; workspace: string }
  | { type: 'workspace'; workspace: string }
  | { type: 'doc'; workspace: string; doc: string }
  | { type: 'rejected'; workspace: string; author: string; reason: string };

export { MAX_CHAT_BYTES, MAX_NAME_CHARS } from './core/limits.ts';
