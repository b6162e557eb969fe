// The members' side of queued joins (queued-join.ts): a joiner asks a relay to queue its request
// (and asks again to learn where it stands); a manager (the inviter, or any other while the
// inviter is offline) answers the requests a relay passes on.
import { fromHex, toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { TrellisError } from '../core/errors.ts';
import type { NetNode, NetPeerInfo } from '../net/libp2p-node.ts';
import type { Store } from '../store/store.ts';
import { FrameStream } from '../sync/frame-stream.ts';
import { FrameType } from '../sync/frames.ts';
import { admitJoiner, admitWithGrant } from '../workspace/join.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { MAX_DELIVERY, parseQueueAnswer, parseQueuedRequest, RELAY_JOIN_PROTOCOL, type CheckedRequest, type DeliveryResult, type QueueAnswer, type QueuedJoinRequest } from './queued-join.ts';
import { parseRelayAddress } from './relay-address.ts';

const ANSWER_TIMEOUT_MS = 15_000;

/** Joiner side: queues (or re-asks about) `request` at the relay at `addr`. */
export async function askRelay(net: Pick<NetNode, 'openStream'>, addr: string, request: QueuedJoinRequest): Promise<QueueAnswer & { relay: NetPeerInfo }> {
  const expected = parseRelayAddress(addr).key;
  const { stream, remote } = await net.openStream(addr, RELAY_JOIN_PROTOCOL);
  if (toHex(remote.publicKey) !== expected) {
    stream.abort();
    throw new TrellisError('invalid', `the peer at ${addr} is not the relay the invitation names`);
  }
  const fs = new FrameStream(stream);
  const timer = setTimeout(() => stream.abort(new Error('the relay did not answer in time')), ANSWER_TIMEOUT_MS);
  try {
    await fs.send({ type: FrameType.joinRequest, body: { op: 'queue', request } });
    const first = await fs.frames().next();
    if (first.done) throw new TrellisError('unavailable', 'the relay closed the connection without answering');
    const f = first.value;
    // A request the relay finds invalid stays invalid: a refusal, like `forbidden`. Other codes (its limits) are for now.
    if (f.type === FrameType.error) throw new TrellisError(f.code === 'forbidden' || f.code === 'invalid' ? 'forbidden' : f.code === 'not-found' ? 'not-found' : 'unavailable', `the relay refused: ${f.message}`);
    if (f.type !== FrameType.joinAccept) throw new TrellisError('unavailable', 'the relay answered with an unexpected message');
    return { ...parseQueueAnswer(f.body), relay: remote };
  } finally {
    clearTimeout(timer);
    void stream.close().catch(() => {});
  }
}

export interface InviterContext {
  selfHex: string;
  store: Store;
  findWorkspace: (idHex: string) => Workspace | undefined;
  /** True when `relayHex` is a relay attached to the workspace: only those pass requests on. */
  isRelayOf: (ws: Workspace, relayHex: string) => boolean;
  log: (line: string) => void;
}

/** Manager side: admits (or refuses) the requests a relay passes on, and answers with the results. */
export function answerDeliveries(stream: ByteStream, remote: NetPeerInfo, ctx: InviterContext): void {
  const fs = new FrameStream(stream);
  const relayHex = toHex(remote.publicKey);
  void (async () => {
    try {
      const first = await fs.frames().next();
      if (first.done) return;
      const f = first.value;
      const body = f.type === FrameType.joinRequest ? f.body as { op?: unknown; requests?: unknown } : undefined;
      if (typeof body !== 'object' || body === null || body.op !== 'deliver' || !Array.isArray(body.requests) || body.requests.length > MAX_DELIVERY) {
        throw new TrellisError('invalid', 'expected join requests passed on by a relay');
      }
      const results = body.requests.map((raw) => admitOne(raw, relayHex, ctx));
      await fs.send({ type: FrameType.joinAccept, body: { results } });
    } catch (err) {
      const e = err instanceof TrellisError ? err : new TrellisError('invalid', 'malformed delivery');
      await fs.send({ type: FrameType.error, code: e.code, message: e.message }).catch(() => {});
    } finally {
      void stream.close().catch(() => {});
    }
  })();
}

function admitOne(raw: unknown, relayHex: string, ctx: InviterContext): DeliveryResult {
  let checked: CheckedRequest;
  try {
    checked = parseQueuedRequest(raw);
  } catch (err) {
    // Unreadable: we cannot even say whose it is; the relay drops it with its other failures.
    const o = raw as { joiner?: unknown; invite?: unknown } | null;
    const hex = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : '0'.repeat(64);
    return { joiner: hex(o?.joiner), invite: hex(o?.invite), ok: false, code: 'invalid', reason: (err as Error).message };
  }
  const req = checked.request;
  const ids = { joiner: req.joiner, invite: req.invite };
  try {
    const ws = ctx.findWorkspace(req.workspace);
    if (!ws) throw new TrellisError('not-found', 'this peer does not hold that workspace');
    if (!ctx.isRelayOf(ws, relayHex)) throw new TrellisError('forbidden', 'requests for this workspace come only through its attached relays');
    const already = ws.isMember(req.joiner);
    // Our own invitation: our record of it (secret, used or not) decides. Another manager's: its
    // signed ticket and the workspace's shared record of used invitations.
    if (req.inviter === ctx.selfHex) admitJoiner(req, fromHex(req.joiner), ctx.store, ctx.findWorkspace, true);
    else admitWithGrant(req, checked.grant, ctx.findWorkspace);
    if (!already) ctx.log(`join: added member ${req.joiner.slice(0, 8)} to workspace ${req.workspace.slice(0, 8)} (request queued at relay ${relayHex.slice(0, 8)}, invited by ${req.inviter.slice(0, 8)})`);
    return { ...ids, ok: true };
  } catch (err) {
    const e = err instanceof TrellisError ? err : new TrellisError('invalid', (err as Error).message);
    ctx.log(`join: refused ${req.joiner.slice(0, 8)} (request queued at relay ${relayHex.slice(0, 8)}): ${e.message}`);
    return { ...ids, ok: false, code: e.code, reason: e.message };
  }
}
