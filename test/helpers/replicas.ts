// Builds in-process replicas (Workspace + MemoryStore + chat) for sync and core tests.
import { toHex } from '../../src/core/bytes.ts';
import { EntryPreparer } from '../../src/crypto/entry-preparer.ts';
import { agreementKeyPair, signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import type { Store } from '../../src/store/store.ts';
import { memoryPair } from '../../src/sync/memory-pair.ts';
import { SyncSession } from '../../src/sync/session.ts';
import { ChatTool } from '../../src/tools/chat/chat-tool.ts';
import { addPayload } from '../../src/workspace/control-builders.ts';
import { createWorkspace } from '../../src/workspace/create-workspace.ts';
import { Workspace } from '../../src/workspace/workspace.ts';

export interface TestReplica {
  name: string;
  signing: KeyPair;
  agreement: KeyPair;
  store: Store;
  chat: ChatTool;
  ws: Workspace;
  logs: string[];
}

/**
 * Shared by every test replica, as a Peer shares one: batches of MIN_PREPARED_BATCH entries or
 * more are hashed and opened on its worker thread, so the sync tests cover that path too.
 */
export const preparer = new EntryPreparer();
await preparer.warm();

function context(name: string, store: Store = new MemoryStore()) {
  const signing = signingKeyPair();
  const agreement = agreementKeyPair();
  const chat = new ChatTool();
  const logs: string[] = [];
  return {
    name, signing, agreement, store, chat, logs,
    ctx: { store, signing, agreement, handlers: new Map([[chat.kind, chat]]), log: (l: string) => { logs.push(l); }, saveKey: () => {}, preparer },
  };
}

export function founder(name = 'alice', store?: Store): TestReplica & { key: Uint8Array } {
  const c = context(name, store);
  const { workspace, key } = createWorkspace(c.ctx, 'Test space', name);
  return { ...c, ws: workspace, key };
}

/** A new member: added by `by` (a manager), with an empty replica (its keys come with the history). */
export function member(by: TestReplica, name: string, role: 'participant' | 'guest' | 'manager' = 'participant', store?: Store): TestReplica {
  const c = context(name, store);
  by.ws.appendControl(addPayload(by.ws, { key: toHex(c.signing.publicKey), agreementKey: toHex(c.agreement.publicKey), name, role, invite: toHex(new Uint8Array(32)) }));
  c.store.addWorkspace(by.ws.id);
  const ws = new Workspace(c.ctx, by.ws.id, new Map());
  return { ...c, ws };
}

/** An outsider: holds the workspace key (say, leaked) but was never added. */
export function outsider(of: TestReplica, key: Uint8Array, name = 'mallory'): TestReplica {
  const c = context(name);
  c.store.addWorkspace(of.ws.id);
  return { ...c, ws: new Workspace(c.ctx, of.ws.id, new Map([[0, key]])) };
}

/** Connects two replicas with a sync session each way over an in-memory pair. */
export function connect(a: TestReplica, b: TestReplica) {
  const [sa, sb] = memoryPair();
  const initiator = new SyncSession(sa, { remoteKey: b.signing.publicKey, log: (l) => a.logs.push(l) });
  const responder = new SyncSession(sb, { remoteKey: a.signing.publicKey, log: (l) => b.logs.push(l) });
  const done = Promise.allSettled([
    initiator.initiate(a.ws),
    responder.accept((id, remote) => {
      if (toHex(id) !== b.ws.idHex) return { error: 'unknown', message: 'unknown workspace' };
      if (!b.ws.isMember(toHex(remote))) return { error: 'forbidden', message: 'not a member' };
      return b.ws;
    }),
  ]);
  return { initiator, responder, done, close: () => { initiator.close(); responder.close(); } };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
