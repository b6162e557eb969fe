// Founding a workspace: a fresh key for epoch 0, an id derived from our key and a nonce, and the
// `create` control entry as our first entry.
import { fromHex, toHex } from '../core/bytes.ts';
import { AEAD_KEY_BYTES, randomBytes, sealTo } from '../crypto/sodium.ts';
import { nameBox } from './control-builders.ts';
import { Workspace, type WorkspaceContext } from './workspace.ts';
import { workspaceIdFor } from './workspace-id.ts';

export function createWorkspace(ctx: WorkspaceContext, name: string, memberName: string): { workspace: Workspace; key: Uint8Array } {
  const nonce = toHex(randomBytes(16));
  const id = fromHex(workspaceIdFor(ctx.signing.publicKey, nonce));
  const key = randomBytes(AEAD_KEY_BYTES);
  ctx.store.addWorkspace(id);
  ctx.saveKey(id, 0, key);
  const ws = new Workspace(ctx, id, new Map([[0, key]]));
  ws.appendControl({
    type: 'create', nonce, agreementKey: toHex(ctx.agreement.publicKey),
    nameBox: nameBox(name, key, id), memberNameBox: nameBox(memberName, key, id),
    keys: { '0': toHex(sealTo(key, ctx.agreement.publicKey)) },
  });
  return { workspace: ws, key };
}
