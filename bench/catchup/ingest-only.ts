// Diagnostic: the receiver's work without the network, in one process. Builds the trace's entries
// with a writer Workspace (memory store), then times a fresh replica (SQLite on disk) ingesting
// them in 1,000-entry batches, beside bare Yjs applying the same updates. Not the acceptance
// benchmark (that is run.ts, over libp2p); this one isolates ingest costs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { toHex } from '../../src/core/bytes.ts';
import { EntryKind } from '../../src/core/entry.ts';
import { agreementKeyPair, signingKeyPair } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { DocTool, encodeDocUpdate } from '../../src/tools/docs/doc-tool.ts';
import { addPayload } from '../../src/workspace/control-builders.ts';
import { createWorkspace } from '../../src/workspace/create-workspace.ts';
import { Workspace } from '../../src/workspace/workspace.ts';
import { buildWorkload } from './trace.ts';

const w = buildWorkload();
const updates = w.updates;
const DOC = 'cd'.repeat(16);

function ctx(store: MemoryStore | SqliteStore) {
  const docs = new DocTool();
  return { docs, ctx: { store, signing: signingKeyPair(), agreement: agreementKeyPair(), handlers: new Map([[docs.kind, docs]]), log: () => {}, saveKey: () => {} } };
}
const writer = ctx(new MemoryStore());
const ws = createWorkspace(writer.ctx, 'bench', 'writer').workspace;
const dir = mkdtempSync(join(tmpdir(), 'trellis-ingest-'));
const reader = ctx(new SqliteStore(join(dir, 'trellis.db')));
ws.appendControl(addPayload(ws, { key: toHex(reader.ctx.signing.publicKey), agreementKey: toHex(reader.ctx.agreement.publicKey), name: 'reader', role: 'participant', invite: '00'.repeat(32) }));
const docId = Buffer.from(DOC, 'hex');
for (let i = 0; i < updates.length; i += 10_000) ws.appendMany(EntryKind.docUpdate, updates.slice(i, i + 10_000).map((u) => encodeDocUpdate(docId, u)));
const all = [...writer.ctx.store.allEntries(ws.id)];
reader.ctx.store.addWorkspace(ws.id);
const replica = new Workspace(reader.ctx, ws.id, new Map());

const t0 = performance.now();
const d = new Y.Doc();
for (const u of updates) Y.applyUpdate(d, u);
const bare = performance.now() - t0;

const t1 = performance.now();
for (let i = 0; i < all.length; i += 1000) replica.ingest(all.slice(i, i + 1000), new Uint8Array(32));
const trellis = performance.now() - t1;
const ok = reader.docs.doc(ws.idHex, DOC).getText('text').toString().length;
console.log(`entries ${all.length}; bare Yjs ${(bare / 1000).toFixed(3)} s; Trellis ingest ${(trellis / 1000).toFixed(3)} s; ratio ${(trellis / bare).toFixed(2)}; text ${ok} chars (bare ${d.getText('text').toString().length})`);
rmSync(dir, { recursive: true, force: true });
