// The part of Peer the API serves. Naming it lets the HTTP layer be tested with a stand-in and
// shows, in one place, everything the daemon exposes.
import type { Peer } from '../peer.ts';
import type { DocAccess } from '../tools/doc-access.ts';

export type ApiPeer = Pick<Peer,
  | 'status'
  | 'syncStatus'
  | 'resolveWorkspace'
  | 'createWorkspace'
  | 'listWorkspaces'
  | 'createInvite'
  | 'join'
  | 'members'
  | 'sendChat'
  | 'chatLog'
  | 'setRole'
  | 'removeMember'
  | 'leave'
  | 'deleteWorkspace'
  | 'audit'
  | 'permissions'
  | 'setPermissions'
  | 'epochs'
  | 'setPresence'
  | 'on'>
  // Optional, so stand-ins for HTTP tests need not implement the files tool (its routes answer 503 without it).
  & Partial<Pick<Peer, 'files'>>
  // Documents for the tools (routes/tools.ts); optional for the same reason (those routes answer 503).
  & Partial<DocAccess>
  // Relays (routes/relays.ts); optional for the same reason (those routes answer 503).
  & Partial<Pick<Peer, 'addRelay' | 'removeRelay' | 'relayList' | 'joinWithRelays' | 'pendingJoins'>>
  // Issued invitations and their revocation (routes/invitations.ts); optional for the same reason.
  & Partial<Pick<Peer, 'listInvites' | 'revokeInvite'>>
  // Call signalling (routes/calls.ts); optional for the same reason.
  & Partial<Pick<Peer, 'sendCallSignal' | 'endCalls' | 'callServers'>>
  // History verification (routes/history.ts); optional for the same reason.
  & Partial<Pick<Peer, 'verifyHistory'>>;
