// A stand-in for Peer, for unit tests of the HTTP/CLI layers only: in memory, no network, no
// crypto. Real end-to-end tests use the real Peer. Special names trigger each error path:
// a workspace whose name starts with "guest" makes invites forbidden; join codes "expired",
// "offline" and "member" give forbidden, unavailable and conflict; a workspace named "boom"
// makes chatLog throw a plain (unexpected) Error.
import { TrellisError } from '../../src/core/errors.ts';
import type { ApiPeer } from '../../src/daemon/api-peer.ts';
import type { AuditItem, ChatMessage, InviteOptions, MemberInfo, PeerEvent, PeerStatus, Role, WorkspaceInfo } from '../../src/peer-api.ts';
import type { PermissionTable } from '../../src/core/membership.ts';

interface FakeWorkspace { info: WorkspaceInfo; chat: ChatMessage[]; members: MemberInfo[] }

export const FAKE_KEY = 'ab'.repeat(32);

export class FakePeer implements ApiPeer {
  readonly workspaces = new Map<string, FakeWorkspace>();
  readonly invites: { ws: string; opts: InviteOptions }[] = [];
  readonly #listeners = new Set<(e: PeerEvent) => void>();
  #next = 1;

  status(): PeerStatus {
    return { name: 'Alice', peerId: '12D3KooWFake', addrs: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFake'], connections: 2, workspaces: this.workspaces.size };
  }

  syncStatus(idOrName: string): { peers: number; pending: number; syncing: boolean } {
    this.resolveWorkspace(idOrName);
    return { peers: 2, pending: 0, syncing: false };
  }

  resolveWorkspace(idOrName: string): string {
    if (this.workspaces.has(idOrName)) return idOrName;
    const named = [...this.workspaces.values()].filter((w) => w.info.name === idOrName);
    if (named.length === 1) return named[0].info.id;
    if (named.length > 1) throw new TrellisError('invalid', `several workspaces are named "${idOrName}": use its id`);
    throw new TrellisError('not-found', `no workspace "${idOrName}"`);
  }

  async createWorkspace(name: string): Promise<WorkspaceInfo> {
    const id = (this.#next++).toString(16).padStart(32, '0');
    const info: WorkspaceInfo = { id, name, role: name.startsWith('guest') ? 'guest' : 'manager', members: 1 };
    this.workspaces.set(id, { info, chat: [], members: [{ name: 'Alice', key: FAKE_KEY, role: name.startsWith('guest') ? 'guest' : 'manager', online: true }] });
    return info;
  }

  listWorkspaces(): WorkspaceInfo[] {
    return [...this.workspaces.values()].map((w) => w.info);
  }

  async createInvite(ws: string, opts: InviteOptions): Promise<string> {
    const w = this.#get(ws);
    if (w.info.role === 'guest') throw new TrellisError('forbidden', 'a guest cannot invite: ask a manager');
    this.invites.push({ ws, opts });
    return `trellis1-invite-${ws}`;
  }

  async join(code: string): Promise<WorkspaceInfo> {
    if (code === 'expired') throw new TrellisError('forbidden', 'this invitation has expired: ask for a new one');
    if (code === 'offline') throw new TrellisError('unavailable', 'the inviter is not reachable: try again when they are online');
    if (code === 'member') throw new TrellisError('conflict', 'you are already a member of this workspace');
    if (!code.startsWith('trellis1-')) throw new TrellisError('invalid', 'this is not an invitation code');
    return this.createWorkspace('joined');
  }

  members(ws: string): MemberInfo[] {
    return this.#get(ws).members;
  }

  async sendChat(ws: string, text: string): Promise<ChatMessage> {
    const w = this.#get(ws);
    const message: ChatMessage = { id: `${FAKE_KEY}:${w.chat.length + 1}`, author: FAKE_KEY, authorName: 'Alice', text, time: 1_700_000_000_000 + w.chat.length };
    w.chat.push(message);
    this.emit({ type: 'chat', workspace: ws, message });
    return message;
  }

  chatLog(ws: string): ChatMessage[] {
    const w = this.#get(ws);
    if (w.info.name === 'boom') throw new Error('disk on fire\n    at somewhere (file.ts:1:1)');
    return w.chat;
  }

  // -- membership (calls are recorded; a workspace whose name starts with "guest" refuses them) --
  readonly membershipCalls: unknown[][] = [];
  readonly #permissions = new Map<string, PermissionTable>();
  readonly #epochs = new Map<string, number>();

  #manager(ws: string): FakeWorkspace {
    const w = this.#get(ws);
    if (w.info.role !== 'manager') throw new TrellisError('forbidden', `as a ${w.info.role}, you may not do that`);
    return w;
  }

  #member(w: FakeWorkspace, who: string): MemberInfo {
    const m = w.members.find((x) => x.name === who || x.key === who || (who.length >= 8 && x.key.startsWith(who)));
    if (m === undefined) throw new TrellisError('not-found', `no member "${who}" in this workspace`);
    return m;
  }

  async setRole(ws: string, who: string, role: Role): Promise<MemberInfo> {
    this.membershipCalls.push(['setRole', ws, who, role]);
    const m = this.#member(this.#manager(ws), who);
    m.role = role;
    return m;
  }

  async removeMember(ws: string, who: string): Promise<void> {
    this.membershipCalls.push(['removeMember', ws, who]);
    const w = this.#manager(ws);
    const m = this.#member(w, who);
    w.members = w.members.filter((x) => x !== m);
    this.#epochs.set(ws, (this.#epochs.get(ws) ?? 0) + 1);
  }

  async leave(ws: string): Promise<void> {
    this.membershipCalls.push(['leave', ws]);
    this.#get(ws).info.role = 'removed';
  }

  async deleteWorkspace(ws: string, opts: { force?: boolean } = {}): Promise<void> {
    this.membershipCalls.push(['deleteWorkspace', ws, String(opts.force ?? false)]);
    if (this.#get(ws).info.role !== 'removed') throw new TrellisError('conflict', 'leave it first');
  }

  audit(ws: string): AuditItem[] {
    this.#manager(ws);
    return [{ author: 'cd'.repeat(32), authorName: 'Mallory', seq: 3, reason: 'a guest may not change roles' }];
  }

  permissions(ws: string): PermissionTable {
    this.#get(ws);
    return this.#permissions.get(ws) ?? { chat: ['manager', 'participant', 'guest'], doc: ['manager', 'participant'] };
  }

  async setPermissions(ws: string, table: PermissionTable): Promise<void> {
    this.membershipCalls.push(['setPermissions', ws, table]);
    this.#manager(ws);
    this.#permissions.set(ws, table);
  }

  epochs(ws: string): { current: number; held: number[] } {
    this.#get(ws);
    const current = this.#epochs.get(ws) ?? 0;
    return { current, held: Array.from({ length: current + 1 }, (_, i) => i) };
  }

  setPresence(ws: string, _state: { tool?: string; typing?: boolean }): void {
    this.resolveWorkspace(ws);
  }

  on(listener: (e: PeerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  emit(e: PeerEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #get(ws: string): FakeWorkspace {
    const w = this.workspaces.get(ws);
    if (w === undefined) throw new TrellisError('not-found', `no workspace ${ws}`);
    return w;
  }
}
