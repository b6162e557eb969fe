// How tools plug into a workspace: each content entry kind has one handler that checks a
// decrypted payload and then applies it to the tool's in-memory state.
import type { EntryKind } from '../core/entry.ts';
import type { Role } from '../core/membership.ts';

export interface AuthorInfo {
  keyHex: string;
  name: string;
  role: Role;
}

export interface EntryContext {
  workspaceHex: string;
  author: AuthorInfo;
  seq: number;
  clock: number;
  time: number;
}

export interface ContentHandler {
  readonly kind: EntryKind;
  /**
   * A reason to reject the payload, or undefined when it is well formed and `author` may write it
   * (the workspace has already checked that the author's role may write this kind at all).
   * Must not change state.
   */
  check(plaintext: Uint8Array, author: AuthorInfo): string | undefined;
  /** Applies an accepted, stored entry. */
  apply(ctx: EntryContext, plaintext: Uint8Array): void;
  /** Optional: runs `fn`, which applies many entries, letting the handler apply them together. */
  batch?<T>(fn: () => T): T;
  /** Forgets a workspace's state: it is about to be rebuilt from its entries (membership changed retroactively). */
  reset(workspaceHex: string): void;
}
