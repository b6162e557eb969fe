// A member's side of /trellis/turn/1.0.0 (turn-protocol.ts): TURN credentials from the relays of
// a workspace, for our browser's calls. Kept until shortly before they expire; a relay that does
// not answer (an older relay, or one without TURN) is skipped and asked again later.
import type { NetNode, NetPeerInfo } from '../net/libp2p-node.ts';
import { decodeTurnMessage, readTurnAnswer, TURN_PROTOCOL, type TurnOffer } from './turn-protocol.ts';

const ASK_TIMEOUT_MS = 5000;
/** Credentials are used until this long before they expire (a call may start with them). */
const MARGIN_MS = 10 * 60_000;
/** A relay that gave none is asked again after this. */
const RETRY_MS = 60_000;

export class TurnClient {
  private readonly net: NetNode;
  private readonly log: (line: string) => void;
  private readonly cache = new Map<string, { offer?: TurnOffer; until: number }>();

  constructor(net: NetNode, log: (line: string) => void) {
    this.net = net;
    this.log = log;
  }

  /** Credentials from each of `relays` we are connected to (asked in parallel). */
  async offers(relays: NetPeerInfo[], now = Date.now()): Promise<TurnOffer[]> {
    const got = await Promise.all(relays.map((r) => this.offerOf(r, now)));
    return got.filter((o): o is TurnOffer => o !== undefined);
  }

  private async offerOf(relay: NetPeerInfo, now: number): Promise<TurnOffer | undefined> {
    const cached = this.cache.get(relay.peerId);
    if (cached && cached.until > now) return cached.offer;
    try {
      const { stream } = await this.net.openStream(relay.peerId, TURN_PROTOCOL, ASK_TIMEOUT_MS);
      await stream.close(); // we send nothing
      const timer = setTimeout(() => stream.abort(new Error('no TURN answer in time')), ASK_TIMEOUT_MS);
      let answer: Uint8Array;
      try { answer = await readTurnAnswer(stream); } finally { clearTimeout(timer); }
      const offer = decodeTurnMessage(answer);
      if (typeof offer === 'string') throw new Error(offer);
      this.cache.set(relay.peerId, { offer, until: now + offer.ttl * 1000 - MARGIN_MS });
      return offer;
    } catch (err) {
      this.log(`calls: no TURN credentials from relay ${relay.peerId.slice(-8)}: ${(err as Error).message}`);
      this.cache.set(relay.peerId, { until: now + RETRY_MS });
      return undefined;
    }
  }
}
