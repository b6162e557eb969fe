// Hostile peers against a real daemon (child process): a non-member, and a member's key sending
// forged, replayed, reordered, broken-chain and malformed traffic over real libp2p streams. Each
// is rejected and logged; the daemon keeps running and its state does not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { EntryKind, ZERO_HASH } from '../../src/core/entry.ts';
import { entryHash, sealEntry } from '../../src/crypto/entry-seal.ts';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode } from '../../src/net/libp2p-node.ts';
import { Peer } from '../../src/peer.ts';
import { createIdentity, loadIdentity } from '../../src/store/identity-file.ts';
import { FrameStream } from '../../src/sync/frame-stream.ts';
import { FrameType, SYNC_PROTOCOL, type Frame } from '../../src/sync/frames.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { openLocal, deriveStorageKey } from '../../src/crypto/local-seal.ts';

interface Msg { text: string }

test('hostile traffic against a real daemon is rejected, logged, and changes nothing', { timeout: 180_000 }, async (t) => {
  const honest = await Daemon.create({ name: 'honest' });
  await honest.start();
  const home = mkdtempSync(join(tmpdir(), 'trellis-mallory-'));
  t.after(async () => { await honest.destroy(); rmSync(home, { recursive: true, force: true }); });

  const { id } = await honest.json<{ id: string }>('workspace', 'create', 'Target');
  await honest.cli('chat', 'send', 'Target', 'honest message');
  const { code } = await honest.json<{ code: string }>('invite', 'Target');

  // Mallory joins legitimately as a participant (so her key is a member), learns the epoch key...
  createIdentity(home, 'mallory');
  const mallory = await Peer.start({ home, mdns: false, log: () => {} });
  await mallory.join(code);
  await mallory.stop();
  const me = loadIdentity(home);
  const store = new SqliteStore(join(home, 'trellis.db'));
  const wsId = fromHex(id);
  const key = openLocal(store.keys(wsId)[0].sealedKey, deriveStorageKey(me.signing.secretKey), wsId)!;
  const honestHeads = store.heads(wsId);
  store.close();

  // ...then talks to the daemon with raw frames over real libp2p streams.
  const net = await createNetNode({ signingSecretKey: me.signing.secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  t.after(() => net.stop());
  const entry = (seq: number, prev: Uint8Array, text: string, signer = me.signing) => sealEntry({
    kind: EntryKind.chat, workspace: wsId, author: signer.publicKey, epoch: 0, seq, clock: 1000 + seq, time: Date.now(), prevHash: prev,
    deps: honestHeads.map((h) => ({ author: h.author, seq: h.seq, hash: h.hash })),
  }, encodeChat(text), key, signer.secretKey);

  async function session(frames: Uint8Array[] | Frame[], raw = false, attempt = 0): Promise<Frame[]> {
    const { stream } = await net.openStream(honest.addr, SYNC_PROTOCOL);
    const fs = new FrameStream(stream);
    const got: Frame[] = [];
    const reader = (async () => { try { for await (const f of fs.frames()) got.push(f); } catch { /* closed by the daemon */ } })();
    await fs.send({ type: FrameType.hello, version: 1, workspace: wsId });
    // The daemon may be opening its own session to us at this moment (it saw us connect); the
    // tie-break then refuses ours as a duplicate, and a well-behaved peer tries again.
    const end = Date.now() + 2000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    if (got[0]?.type === FrameType.error && (got[0] as { code: string }).code === 'duplicate' && attempt < 5) {
      stream.abort();
      await new Promise((r) => setTimeout(r, 300));
      return session(frames, raw, attempt + 1);
    }
    for (const f of frames) {
      if (raw) await stream.write(f as Uint8Array); else await fs.send(f as Frame);
    }
    await new Promise((r) => setTimeout(r, 400));
    await stream.close().catch(() => {});
    await Promise.race([reader, new Promise((r) => setTimeout(r, 2000))]);
    return got;
  }
  const texts = async () => (await honest.json<Msg[]>('chat', 'log', 'Target')).map((m) => m.text);
  const before = await texts();

  // Forged signature.
  const forged = entry(1, ZERO_HASH, 'forged text');
  forged[forged.length - 5] ^= 0xff;
  await session([{ type: FrameType.entries, entries: [forged] }]);
  // Broken hash chain (validly signed by the member, wrong prevHash).
  await session([{ type: FrameType.entries, entries: [entry(1, new Uint8Array(32).fill(1), 'broken chain')] }]);
  // Reordered: seq 2 before seq 1 (nothing accepted past the gap).
  const e1 = entry(1, ZERO_HASH, 'one');
  const e2 = entry(2, entryHash(e1), 'two');
  await session([{ type: FrameType.entries, entries: [e2] }]);
  // An entry signed by a key that is not a member.
  const stranger = signingKeyPair();
  await session([{ type: FrameType.entries, entries: [entry(1, ZERO_HASH, 'stranger', stranger)] }]);
  // Malformed frames: unknown type, absurd length, garbage entry.
  await session([new Uint8Array([0, 0, 0, 2, 77, 1])], true);
  await session([new Uint8Array([0x7f, 0xff, 0xff, 0xff])], true);
  await session([{ type: FrameType.entries, entries: [new Uint8Array(300).fill(1)] }]);

  assert.deepEqual(await texts(), before, 'nothing hostile was applied');
  assert.ok(honest.running, 'the daemon is still running');
  const log = honest.output;
  assert.match(log, /rejected entry .*bad signature/);
  assert.match(log, /rejected entry .*prevHash/);
  assert.match(log, /rejected entry .*gap/);
  assert.match(log, /rejected entry .*not a member/);
  assert.match(log, /malformed frame/);

  // Replay: the valid entry once, then again; it is applied once.
  await session([{ type: FrameType.entries, entries: [e1] }]);
  await session([{ type: FrameType.entries, entries: [e1, e1] }]);
  const after = await eventually('the valid entry', texts, (t) => t.includes('one'));
  assert.equal(after.filter((x) => x === 'one').length, 1);

  // A peer that is not a member cannot open a session at all.
  const outsiderKey = signingKeyPair();
  const outsider = await createNetNode({ signingSecretKey: outsiderKey.secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  t.after(() => outsider.stop());
  const { stream } = await outsider.openStream(honest.addr, SYNC_PROTOCOL);
  const ofs = new FrameStream(stream);
  await ofs.send({ type: FrameType.hello, version: 1, workspace: wsId });
  const reply = (await ofs.frames().next()).value as Frame;
  assert.equal(reply.type, FrameType.error);
  assert.match((reply as { message: string }).message, /not a member/);

  // Still serving honest requests.
  const status = await honest.json<{ workspaces: number }>('status');
  assert.equal(status.workspaces, 1);
  assert.ok(!log.includes(toHex(key)), 'the key never appears in logs');
});
