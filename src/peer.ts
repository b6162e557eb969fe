// Peer: one person's device. Wires store + net + sync + workspaces; the SDK entry point.
import type { ChatMessage, InviteOptions, MemberInfo, PeerEvent, PeerStatus, WorkspaceInfo } from './peer-api.ts';

export interface PeerOptions {
  /** Home directory: identity.json, trellis.db. The identity must exist (see store/identity-file.ts). */
  home: string;
  /** libp2p listen multiaddrs; default ['/ip4/127.0.0.1/tcp/0']. */
  listen?: string[];
  /** Multiaddrs (with /p2p/ID) dialled at start and re-dialled when lost. */
  bootstrap?: string[];
  /** mDNS discovery on the LAN; default true. */
  mdns?: boolean;
  /** Where log lines go (one line each; never keys, tokens or message texts). Default: stderr. */
  log?: (line: string) => void;
}

export class Peer {
  static async start(_opts: PeerOptions): Promise<Peer> { throw new Error('not implemented yet'); }
  status(): PeerStatus { throw new Error('not implemented yet'); }
  /** Resolves an id or a unique name; throws TrellisError('not-found' | 'invalid'). Returns the id. */
  resolveWorkspace(_idOrName: string): string { throw new Error('not implemented yet'); }
  async createWorkspace(_name: string): Promise<WorkspaceInfo> { throw new Error('not implemented yet'); }
  listWorkspaces(): WorkspaceInfo[] { throw new Error('not implemented yet'); }
  async createInvite(_ws: string, _opts: InviteOptions): Promise<string> { throw new Error('not implemented yet'); }
  /** Dials the inviter, joins, and resolves once the history is synced. */
  async join(_code: string): Promise<WorkspaceInfo> { throw new Error('not implemented yet'); }
  members(_ws: string): MemberInfo[] { throw new Error('not implemented yet'); }
  async sendChat(_ws: string, _text: string): Promise<ChatMessage> { throw new Error('not implemented yet'); }
  chatLog(_ws: string): ChatMessage[] { throw new Error('not implemented yet'); }
  on(_listener: (e: PeerEvent) => void): () => void { throw new Error('not implemented yet'); }
  async stop(): Promise<void> { throw new Error('not implemented yet'); }
}
