// This peer's part in call signalling (call-signal.ts is the wire form): our browser's signals go
// out on every session of the workspace, and what arrives is handed to our browser when it is for
// us and passed on to our other sessions when it is not (as presence is). The Peer owns the
// sessions and the events; this keeps the rules.
import { fromHex } from '../core/bytes.ts';
import { TrellisError } from '../core/errors.ts';
import type { KeyPair } from '../crypto/sodium.ts';
import type { SyncSession } from '../sync/session.ts';
import { openSignal, parseSignal, sealSignal, SignalFilter, type CallSignal } from './call-signal.ts';
import type { Workspace } from './workspace.ts';

export interface CallSignallingHost {
  signing: KeyPair;
  selfHex: string;
  /** Open sessions of a workspace (members and relays alike: relays pass signals on too). */
  sessionsOf(wsHex: string): SyncSession[];
  /** A signal for us (or for the person whose device we are): to our browser. */
  deliver(wsHex: string, from: string, signal: CallSignal): void;
}

export class CallSignalling {
  private readonly host: CallSignallingHost;
  private readonly filter = new SignalFilter();
  private counter = 0;

  constructor(host: CallSignallingHost) { this.host = host; }

  /**
   * Sends a signal from our browser to member `to` (their key, or one of their devices'); throws
   * a TrellisError a person can act on: invalid, not-found, or 'unavailable' when no session can
   * carry it.
   */
  send(ws: Workspace, to: string, signal: unknown): void {
    const self = this.host.selfHex;
    if (!ws.isMember(self)) throw new TrellisError('forbidden', 'you are not a member of this workspace');
    const parsed = parseSignal(signal);
    if (typeof parsed === 'string') throw new TrellisError('invalid', `invalid call signal: ${parsed}`);
    if (typeof to !== 'string' || !/^[0-9a-f]{64}$/.test(to)) throw new TrellisError('invalid', 'to is a member\'s key: 64 lowercase hex characters');
    if (to === self) throw new TrellisError('invalid', 'a call signal goes to another member, not to yourself');
    if (!ws.isMember(to)) throw new TrellisError('not-found', 'no member with that key in this workspace');
    // Counters only grow, across restarts too: time-based.
    this.counter = Math.max(this.counter + 1, Date.now() * 16);
    const blob = sealSignal(ws, this.host.signing, fromHex(to), this.counter, parsed);
    if (!blob) throw new TrellisError('unavailable', 'this device does not hold the workspace\'s current key yet');
    let sent = 0;
    for (const s of this.host.sessionsOf(ws.idHex)) if (s.sendSignal(blob)) sent++;
    if (sent === 0) throw new TrellisError('unavailable', 'no member of this workspace is connected: the call cannot reach them');
  }

  /** A SIGNAL blob from a session of `ws`: checked, then delivered, passed on, or dropped. */
  receive(ws: Workspace, blob: Uint8Array, from: SyncSession): void {
    const self = this.host.selfHex;
    const r = openSignal(ws, blob);
    if (typeof r === 'string' || r.from === self || !this.filter.accept(r)) return;
    const me = ws.member(self);
    if (r.to === self || (me?.owner !== undefined && r.to === me.owner)) {
      this.host.deliver(ws.idHex, r.from, r.signal);
      if (r.to === self) return;
    }
    // Not (only) for us: on to our other sessions.
    for (const s of this.host.sessionsOf(ws.idHex)) if (s !== from) s.sendSignal(blob);
  }
}
