// NAT traversal through a relay (circuit relay v2), in-process peers on 127.0.0.1: the peers
// listen on no address of their own (as behind a NAT: they can dial out, nobody can dial in), only
// on a slot at the workspace's relay. The joiner reaches the inviter through the relay's circuit,
// and after a restart the two find each other through the relay's peer exchange alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetNode } from '../../src/net/libp2p-node.ts';
import { Peer } from '../../src/peer.ts';
import { Relay } from '../../src/relay.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { waitFor } from '../helpers/replicas.ts';

const homes: string[] = [];
function home(name: string): string {
  const h = mkdtempSync(join(tmpdir(), `trellis-circuit-${name}-`));
  createIdentity(h, name);
  homes.push(h);
  return h;
}

/** The peer's libp2p node (private to the Peer; tests look at its connections). */
const netOf = (p: Peer) => (p as unknown as { net: NetNode }).net;

test('peers that cannot be dialled reach each other through the relay\'s circuit', { timeout: 60_000 }, async (t) => {
  const logs: string[] = [];
  const relay = await Relay.start({ home: home('relay'), log: (l) => logs.push(`R ${l}`) });
  const aHome = home('alice');
  const bHome = home('bob');
  // Only a relay slot to listen on: no TCP port of their own.
  const behindNat = { mdns: false, listen: ['/p2p-circuit'] };
  let a = await Peer.start({ home: aHome, ...behindNat, log: (l) => logs.push(`A ${l}`) });
  let b: Peer | undefined;
  t.after(async () => {
    await Promise.all([a.stop(), b?.stop(), relay.stop()]);
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });
  assert.deepEqual(a.status().addrs, [], 'alice has no address of her own');

  const ws = await a.createWorkspace('Behind NATs');
  const relayAddr = relay.status().addrs[0];
  await a.addRelay(ws.id, relayAddr);
  await waitFor(() => a.status().addrs.some((x) => x.includes('/p2p-circuit')), 15_000, 'alice holds a slot at the relay');
  const circuitAddr = a.status().addrs.find((x) => x.includes('/p2p-circuit'))!;
  assert.ok(circuitAddr.startsWith(relayAddr), circuitAddr);

  // Bob joins: the code carries alice's circuit address; the join runs through the relay.
  b = await Peer.start({ home: bHome, ...behindNat, log: (l) => logs.push(`B ${l}`) });
  await b.join(await a.createInvite(ws.id, { role: 'participant' }));
  const viaCircuit = () => netOf(b!).connectionAddrs(a.status().peerId);
  assert.ok(viaCircuit().some((x) => x.includes('/p2p-circuit')), `bob reached alice through the circuit: ${viaCircuit().join(' ')}`);
  await a.sendChat(ws.id, 'over the circuit');
  await waitFor(() => b!.chatLog(ws.id).length === 1, 10_000, 'live message');

  // Both restart: neither is told the other's address; the relay's peer exchange brings them together.
  await Promise.all([a.stop(), b.stop()]);
  a = await Peer.start({ home: aHome, ...behindNat, log: (l) => logs.push(`A ${l}`) });
  b = await Peer.start({ home: bHome, ...behindNat, log: (l) => logs.push(`B ${l}`) });
  await waitFor(() => viaCircuit().some((x) => x.includes('/p2p-circuit')), 30_000, 'bob connected to alice through the circuit again');
  await b.sendChat(ws.id, 'back over the circuit');
  await waitFor(() => a.chatLog(ws.id).length === 2, 10_000, 'message from bob');
});
