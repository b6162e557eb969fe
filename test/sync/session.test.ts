import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { connect, founder, member, waitFor } from '../helpers/replicas.ts';
import { FrameStream } from '../../src/sync/frame-stream.ts';
import { FrameType, SIGNAL_VERSION } from '../../src/sync/frames.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SyncSession } from '../../src/sync/session.ts';
import { sealSignal } from '../../src/workspace/call-signal.ts';

const texts = (r: { chat: { log(ws: string): { text: string }[] }; ws: { idHex: string } }) => r.chat.log(r.ws.idHex).map((m) => m.text);

test('two replicas over an in-memory pair catch up, then push live', async () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  for (let i = 0; i < 2500; i++) a.ws.append(EntryKind.chat, encodeChat(`before ${i}`));
  const link = connect(b, a);
  await link.initiator.remoteSynced;
  assert.equal(texts(b).length, 2500);
  b.ws.append(EntryKind.chat, encodeChat('reply from bob'));
  a.ws.append(EntryKind.chat, encodeChat('live from alice'));
  await waitFor(() => texts(a).length === 2502 && texts(b).length === 2502, 5000, 'live messages');
  assert.deepEqual(texts(a), texts(b));
  assert.equal(b.ws.member(b.ws.selfHex)?.name, 'bob');
  link.close();
  await link.done;
});

test('three replicas with concurrent writes converge on one order', async () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  const c = member(a, 'carol', 'guest');
  const ab = connect(b, a);
  const ac = connect(c, a);
  await Promise.all([ab.initiator.remoteSynced, ac.initiator.remoteSynced]);
  const bc = connect(b, c);
  for (let i = 0; i < 50; i++) {
    a.ws.append(EntryKind.chat, encodeChat(`a${i}`));
    b.ws.append(EntryKind.chat, encodeChat(`b${i}`));
    c.ws.append(EntryKind.chat, encodeChat(`c${i}`));
  }
  await waitFor(() => [a, b, c].every((r) => texts(r).length === 150), 5000, 'convergence');
  assert.deepEqual(texts(a), texts(b));
  assert.deepEqual(texts(b), texts(c));
  for (const l of [ab, ac, bc]) l.close();
});


test('a session with a version 2 peer carries no call signals (it would not know the frame)', async () => {
  const a = founder('alice');
  const [ours, theirs] = memoryPair();
  const session = new SyncSession(ours, { remoteKey: a.signing.publicKey, log: () => {} });
  void session.accept(() => a.ws).catch(() => undefined);
  const old = new FrameStream(theirs);
  const frames = old.frames();
  await old.send({ type: FrameType.hello, version: SIGNAL_VERSION - 1, workspace: a.ws.id });
  const hello = (await frames.next()).value as { type: number; version: number };
  assert.deepEqual([hello.type, hello.version], [FrameType.hello, SIGNAL_VERSION - 1], 'the session runs at the old version');
  const blob = sealSignal(a.ws, a.signing, a.signing.publicKey, 1, { call: 'ab'.repeat(16), type: 'bye' })!;
  assert.equal(session.sendSignal(blob), false);
  session.close();
});
