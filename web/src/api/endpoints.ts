// One function per daemon route the UI uses (src/daemon/routes/ and each tool's routes).
import { http, seg } from './client.ts';
import type {
  AuditItem, CalendarEvent, CallSignal, ChatMessage, HistoryVerification, FileInfo, HistoryRow, IdentityInfo, InviteInfo, MemberInfo, PeerStatus,
  PendingJoinInfo, PermissionTable, RelayLinkInfo, Role, Task, TaskStatus, ToolInstance, ToolType, Topic, TopicSummary, VersionInfo, WorkspaceInfo,
} from './types.ts';

const w = (ws: string) => `/api/workspaces/${seg(ws)}`;
const t = (ws: string, tool: string) => `${w(ws)}/tools/${seg(tool)}`;
/** Time travel: the tool as it was at this moment. */
const atQuery = (at?: number) => (at === undefined ? '' : `?at=${seg(new Date(at).toISOString())}`);

export const api = {
  identity: () => http.get<IdentityInfo>('/api/identity'),
  createIdentity: (name: string) => http.post<IdentityInfo>('/api/identity', { name }),
  status: () => http.get<PeerStatus>('/api/status'),
  sync: (ws: string) => http.get<{ peers: number; pending: number; syncing: boolean }>(`${w(ws)}/sync`),

  workspaces: () => http.get<WorkspaceInfo[]>('/api/workspaces'),
  createWorkspace: (name: string) => http.post<{ id: string }>('/api/workspaces', { name }),
  invite: (ws: string, role: Role) => http.post<{ code: string }>(`${w(ws)}/invites`, { role }),
  invites: (ws: string) => http.get<InviteInfo[]>(`${w(ws)}/invites`),
  revokeInvite: (ws: string, id: string) => http.delete<InviteInfo>(`${w(ws)}/invites/${seg(id)}`),
  join: (code: string) => http.post<{ id: string }>('/api/join', { code }),
  /** Joins, or queues the request at a relay when the inviter is offline ({pending: true}). */
  joinQueued: (code: string) => http.post<{ id: string; pending: boolean; relay?: string }>('/api/joins', { code, wait: false }),
  pendingJoins: () => http.get<PendingJoinInfo[]>('/api/joins'),
  relays: (ws: string) => http.get<RelayLinkInfo[]>(`${w(ws)}/relays`),
  addRelay: (ws: string, address: string) => http.post<RelayLinkInfo[]>(`${w(ws)}/relays`, { address }),
  removeRelay: (ws: string, relay: string) => http.delete<{ removed: string }>(`${w(ws)}/relays/${seg(relay)}`),

  members: (ws: string) => http.get<MemberInfo[]>(`${w(ws)}/members`),
  setRole: (ws: string, member: string, role: Role) => http.post<MemberInfo>(`${w(ws)}/members/${seg(member)}/role`, { role }),
  removeMember: (ws: string, member: string) => http.delete<{ removed: string }>(`${w(ws)}/members/${seg(member)}`),
  leave: (ws: string) => http.post<{ left: boolean }>(`${w(ws)}/leave`),
  verifyHistory: (ws: string) => http.get<HistoryVerification>(`${w(ws)}/verify`),
  /** Deletes a workspace we are out of from this device (`force`: before anyone has our leave). */
  deleteWorkspace: (ws: string, force = false) => http.delete<{ deleted: string }>(`${w(ws)}${force ? '?force=true' : ''}`),
  audit: (ws: string) => http.get<AuditItem[]>(`${w(ws)}/audit`),
  permissions: (ws: string) => http.get<PermissionTable>(`${w(ws)}/permissions`),
  setPermissions: (ws: string, table: PermissionTable) => http.put<PermissionTable>(`${w(ws)}/permissions`, table),
  presence: (ws: string, state: { tool?: string | null; typing?: boolean; call?: string | null }) => http.post<{ ok: boolean }>(`${w(ws)}/presence`, state),
  callSignal: (ws: string, to: string, signal: CallSignal) => http.post<{ sent: boolean }>(`${w(ws)}/calls/signal`, { to, signal }),
  /** The TURN servers of the workspace's relays, and whether calls must go through them. */
  callServers: (ws: string) => http.get<{ iceServers: { urls: string[]; username: string; credential: string }[]; relayOnly: boolean }>(`${w(ws)}/calls/servers`),

  chat: (ws: string) => http.get<ChatMessage[]>(`${w(ws)}/chat`),
  sendChat: (ws: string, text: string) => http.post<ChatMessage>(`${w(ws)}/chat`, { text }),

  toolTypes: () => http.get<ToolType[]>('/api/tool-types'),
  tools: (ws: string) => http.get<ToolInstance[]>(`${w(ws)}/tools`),
  addTool: (ws: string, type: string, name: string) => http.post<ToolInstance>(`${w(ws)}/tools`, { type, name }),
  removeTool: (ws: string, tool: string) => http.post<ToolInstance>(`${t(ws, tool)}/remove`),
  history: (ws: string, tool?: string) => http.get<HistoryRow[]>(`${w(ws)}/history${tool ? `?tool=${seg(tool)}` : ''}`),

  tasks: (ws: string, tool: string, at?: number) => http.get<Task[]>(`${t(ws, tool)}/tasks${atQuery(at)}`),
  addTask: (ws: string, tool: string, input: { title: string; assignee?: string; due?: string; status?: TaskStatus }) => http.post<Task>(`${t(ws, tool)}/tasks`, input),
  updateTask: (ws: string, tool: string, task: string, change: { title?: string; assignee?: string; due?: string; status?: TaskStatus }) => http.post<Task>(`${t(ws, tool)}/tasks/${seg(task)}`, change),
  commentTask: (ws: string, tool: string, task: string, text: string) => http.post<unknown>(`${t(ws, tool)}/tasks/${seg(task)}/comments`, { text }),

  events: (ws: string, tool: string, at?: number) => http.get<CalendarEvent[]>(`${t(ws, tool)}/events${atQuery(at)}`),
  exportIcs: (ws: string, tool: string) => http.get<{ ics: string }>(`${t(ws, tool)}/ics`),
  importIcs: (ws: string, tool: string, ics: string) => http.post<{ created: number; updated: number; unchanged: number }>(`${t(ws, tool)}/ics`, { ics }),
  noteMarkdown: (ws: string, tool: string, at?: number) => http.get<{ markdown: string }>(`${t(ws, tool)}/markdown${atQuery(at)}`),
  addEvent: (ws: string, tool: string, input: { title: string; start: string; end: string; place?: string; agenda?: string; attendees?: string[] }) => http.post<CalendarEvent>(`${t(ws, tool)}/events`, input),
  updateEvent: (ws: string, tool: string, event: string, change: { title?: string; start?: string; end?: string; place?: string; agenda?: string; attendees?: string[] }) => http.post<CalendarEvent>(`${t(ws, tool)}/events/${seg(event)}`, change),

  topics: (ws: string, tool: string) => http.get<TopicSummary[]>(`${t(ws, tool)}/topics`),
  topic: (ws: string, tool: string, topic: string) => http.get<Topic>(`${t(ws, tool)}/topics/${seg(topic)}`),
  newTopic: (ws: string, tool: string, title: string, text: string) => http.post<Topic>(`${t(ws, tool)}/topics`, { title, text }),
  reply: (ws: string, tool: string, topic: string, text: string, parent?: string) => http.post<unknown>(`${t(ws, tool)}/topics/${seg(topic)}/replies`, parent ? { text, parent } : { text }),
  react: (ws: string, tool: string, topic: string, reply: string, emoji: string, remove: boolean) => http.post<unknown>(`${t(ws, tool)}/topics/${seg(topic)}/reactions`, { reply, emoji, remove }),
  markRead: (ws: string, tool: string, topic: string) => http.post<TopicSummary>(`${t(ws, tool)}/topics/${seg(topic)}/read`, {}),

  addFileFromPath: (ws: string, path: string, as: string | undefined, job: string) => http.post<{ added: { name: string }[]; skipped: { path: string; reason: string }[] }>(`${w(ws)}/files/add`, { path, ...(as ? { as } : {}), job }),
  getFileToPath: (ws: string, name: string, dest: string, job: string, version?: number) => http.post<{ files: { name: string; path: string; size: number }[] }>(`${w(ws)}/files/get`, { name, dest, job, ...(version ? { version } : {}) }),
  /** The routes this daemon serves ("METHOD /api/…"), to offer only what it can do. */
  capabilities: () => http.get<{ routes: string[] }>('/api/capabilities'),
  uploadPath: (ws: string, name: string, job: string) => `${w(ws)}/files/upload?name=${seg(name)}&job=${seg(job)}`,
  downloadPath: (ws: string, name: string, version?: number) => `${w(ws)}/files/download?name=${seg(name)}${version ? `&version=${version}` : ''}`,
  files: (ws: string, deleted = false) => http.get<FileInfo[]>(`${w(ws)}/files${deleted ? '?deleted=1' : ''}`),
  fileVersions: (ws: string, name: string) => http.get<VersionInfo[]>(`${w(ws)}/files/versions?name=${seg(name)}`),
  removeFile: (ws: string, name: string) => http.post<unknown>(`${w(ws)}/files/rm`, { name }),
  restoreFile: (ws: string, name: string, version: number) => http.post<unknown>(`${w(ws)}/files/restore`, { name, version }),
};
