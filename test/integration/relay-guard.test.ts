// What a relay refuses (real daemons on 127.0.0.1, plus hostile clients in this process that
// speak the sync protocol over libp2p): strangers cannot use it as storage, non-members and
// removed members cannot push into a workspace it serves, and a full quota is reported clearly
// while everything stored stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryKind } from '../../src/core/entry.ts';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode } from '../../src/net/libp2p-node.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { SYNC_PROTOCOL } from '../../src/sync/frames.ts';
import { SessionError, SyncSession } from '../../src/sync/session.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { Workspace } from '../../src/workspace/workspace.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { apiCall, RelayDaemon } from '../helpers/relays.ts';
import { founder } from '../helpers/replicas.ts';

interface Member { name: string; key: string }
interface RelayInfo { key: string; connected: boolean; error?: { code: string; message: string } }

/** A hostile client in this process: a libp2p node of its own that pushes `replica` to the relay. */
async function push(relayAddr: string, replica: Workspace, signingSecretKey = signingKeyPair().secretKey): Promise<Error | undefined> {
  const net = await createNetNode({ signingSecretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  try {
    const { stream } = await net.openStream(relayAddr, SYNC_PROTOCOL);
    const session = new SyncSession(stream, { remoteKey: new Uint8Array(32), log: () => {} });
    return await session.initiate(replica).then(() => undefined, (err: Error) => err);
  } finally {
    await net.stop();
  }
}

test('strangers, non-members and removed members cannot store anything at a relay; a full quota is reported and loses nothing', { timeout: 180_000 }, async (t) => {
  const relay = await RelayDaemon.create({ quota: '120KB' });
  await relay.start();
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  const c = await Daemon.create({ name: 'carol' });
  await Promise.all([a.start(), b.start(), c.start()]);
  t.after(async () => { await Promise.all([a.destroy(), b.destroy(), c.destroy(), relay.destroy()]); });

  // 1. A stranger pushes a workspace that never attached the relay: it is told so, nothing is kept.
  const mallory = founder('mallory');
  for (let i = 0; i < 200; i++) mallory.ws.append(EntryKind.chat, encodeChat(`free storage ${i}`));
  const stranger = await push(relay.addr, mallory.ws);
  assert.ok(stranger instanceof SessionError && stranger.code === 'not-found', String(stranger));
  assert.match(stranger.message, /not attached/);
  assert.deepEqual(await relay.served(), []);
  assert.equal((await relay.status()).bytesHeld, 0);

  // Alice's workspace attaches the relay; Bob and Carol join (directly).
  const { id } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  await a.json('relay', 'add', 'Team', relay.addr);
  for (const d of [b, c]) await d.json('join', (await a.json<{ code: string }>('invite', 'Team')).code);
  await eventually('the relay knows three members', () => relay.served(), (w) => w[0]?.members === 3, 20_000);

  // 2. A non-member (even one holding the workspace id) is refused.
  const outsiderStore = new MemoryStore();
  outsiderStore.addWorkspace(Buffer.from(id, 'hex'));
  const outsiderKeys = { signing: signingKeyPair(), agreement: mallory.agreement };
  const outsider = new Workspace({ store: outsiderStore, ...outsiderKeys, handlers: new Map(), log: () => {}, saveKey: () => {} }, Buffer.from(id, 'hex'), new Map());
  const refused = await push(relay.addr, outsider, outsiderKeys.signing.secretKey);
  assert.ok(refused instanceof SessionError && refused.code === 'forbidden', String(refused));

  // 3. Bob is removed while offline; back online, unaware, he writes: the relay refuses him.
  await b.stop();
  await a.cli('remove', 'Team', 'bob');
  const bob = (await a.json<Member[]>('members', 'Team')).length;
  assert.equal(bob, 2);
  await eventually('the relay knows bob was removed', () => relay.served(), (w) => w[0]?.members === 2, 20_000);
  await a.stop();
  await c.stop();
  const before = (await relay.served())[0];
  await b.start();
  assert.equal((await b.cli('chat', 'send', 'Team', 'written after my removal')).code, 0, 'bob does not know yet');
  const bobsView = await eventually('bob sees the relay refuse him', () => b.json<RelayInfo[]>('relay', 'list', 'Team'), (l) => l[0]?.error !== undefined, 20_000);
  assert.equal(bobsView[0].error!.code, 'forbidden');
  assert.match(bobsView[0].error!.message, /not a member/);
  assert.deepEqual((await relay.served())[0].entries, before.entries, 'nothing of bob\'s got in');
  await b.stop();

  // 4. Over quota: Alice writes more than the relay may hold; she is told, nothing stored is lost.
  await a.start();
  for (let i = 0; i < 600; i++) await apiCall(a.home, 'POST', `/api/workspaces/${id}/chat`, { text: `filling the relay ${i} ${'x'.repeat(100)}` });
  const aliceView = await eventually('alice sees the quota refusal', () => a.json<RelayInfo[]>('relay', 'list', 'Team'), (l) => l[0]?.error?.code === 'quota', 30_000);
  assert.match(aliceView[0].error!.message, /over quota: this relay holds \d+ bytes for workspace [0-9a-f]{8} and its quota is 120000 bytes; nothing already stored is lost/);
  const full = (await relay.served())[0];
  assert.ok(full.bytesHeld <= 120_000 + 1024 * 1024 && full.entries > before.entries, JSON.stringify(full));
  await a.stop();
  // Restarted, the relay still holds exactly that, and Carol (alone) gets it from there.
  await relay.stop();
  await relay.start();
  const after = (await relay.served())[0];
  assert.deepEqual([after.entries, after.bytesHeld], [full.entries, full.bytesHeld]);
  await c.start();
  const log = await eventually('carol gets what the relay holds', () => c.json<{ text: string }[]>('chat', 'log', 'Team'), (l) => l.length > 0, 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  const texts = (await c.json<{ text: string }[]>('chat', 'log', 'Team')).map((m) => m.text);
  assert.ok(log.length <= texts.length && texts.length < 600, `carol got ${texts.length} messages`);
  assert.deepEqual(texts, Array.from({ length: texts.length }, (_, i) => `filling the relay ${i} ${'x'.repeat(100)}`));
});
