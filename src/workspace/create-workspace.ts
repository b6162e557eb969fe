// Founding a workspace: a fresh key for epoch 0, an id derived from our key and a nonce, and the
// `create` control entry as our first entry.
import { toHex } from '../core/bytes.ts';
import { fromHex } from '../core/bytes.ts';
import { AEAD_KEY_BYTES, randomBytes } from '../crypto/sodium.ts';
import { Workspace, type WorkspaceContext } from './workspace.ts';
import { workspaceIdFor } from './workspace-id.ts';

export function createWorkspace(ctx: WorkspaceContext, name: string, memberName: string, agreementKey: Uint8Array): { workspace: Workspace; key: Uint8Array } {
  const nonce = toHex(randomBytes(16));
  const id = fromHex(workspaceIdFor(ctx.signing.publicKey, nonce));
  const key = randomBytes(AEAD_KEY_BYTES);
  const ws = new Workspace(ctx, id, new Map([[0, key]]));
  ctx.store.addWorkspace(id);
  ws.appendControl({ type: 'create', name, nonce, agreementKey: toHex(agreementKey), memberName });
  return { workspace: ws, key };
}
