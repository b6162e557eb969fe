// The part of Peer the API serves. Naming it lets the HTTP layer be tested with a stand-in and
// shows, in one place, everything the daemon exposes.
import type { Peer } from '../peer.ts';

export type ApiPeer = Pick<Peer,
  | 'status'
  | 'resolveWorkspace'
  | 'createWorkspace'
  | 'listWorkspaces'
  | 'createInvite'
  | 'join'
  | 'members'
  | 'sendChat'
  | 'chatLog'
  | 'on'>;
