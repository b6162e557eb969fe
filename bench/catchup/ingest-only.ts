// Diagnostic: the receiver's work without the network, in one process. Builds the trace's entries
// with a writer Workspace (memory store), then times a fresh replica (SQLite on disk) ingesting
// them in 1,000-entry batches, beside bare Yjs applying the same updates. Not the acceptance
// benchmark (that is run.ts, over libp2p); this one isolates ingest costs.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { toHex } from '../../src/core/bytes.ts';
import { decodeEntry, EntryKind } from '../../src/core/entry.ts';
import { packEntries } from '../../src/core/entry-pack.ts';
import { agreementKeyPair, hash, signingKeyPairFromSeed } from '../../src/crypto/sodium.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { EntryPreparer } from '../../src/crypto/entry-preparer.ts';
import { DocTool, encodeDocUpdate } from '../../src/tools/docs/doc-tool.ts';
import { addPayload } from '../../src/workspace/control-builders.ts';
import { createWorkspace } from '../../src/workspace/create-workspace.ts';
import { Workspace } from '../../src/workspace/workspace.ts';
import { buildWorkload, readUpdates, writeUpdates } from './trace.ts';

const w = buildWorkload();
const updates = w.updates;
const DOC = 'cd'.repeat(16);

// Fixed keys, so the entries can be cached between runs (writing them is slow and not measured).
const seeded = (s: string) => ({ signing: signingKeyPairFromSeed(hash(new TextEncoder().encode(s))), agreement: agreementKeyPair() });
function ctx(store: MemoryStore | SqliteStore, keys: ReturnType<typeof seeded>) {
  const docs = new DocTool();
  return { docs, ctx: { store, ...keys, handlers: new Map([[docs.kind, docs]]), log: () => {}, saveKey: () => {}, preparer: undefined as EntryPreparer | undefined } };
}
const readerKeys = seeded('ingest reader');
const CACHE = join(tmpdir(), `trellis-ingest-${updates.length}.bin`);
let all: Uint8Array[];
let wsId: Uint8Array;
if (existsSync(CACHE) && existsSync(CACHE + '.key')) {
  all = readUpdates(CACHE);
  wsId = decodeEntry(all[0]).workspace;
  readerKeys.agreement = JSON.parse(readFileSync(CACHE + '.key', 'utf8'), (_k, v) => (typeof v === 'string' ? Buffer.from(v, 'hex') : v));
} else {
  const writer = ctx(new MemoryStore(), seeded('ingest writer'));
  const ws = createWorkspace(writer.ctx, 'bench', 'writer').workspace;
  ws.appendControl(addPayload(ws, { key: toHex(readerKeys.signing.publicKey), agreementKey: toHex(readerKeys.agreement.publicKey), name: 'reader', role: 'participant', invite: '00'.repeat(32) }));
  const docId = Buffer.from(DOC, 'hex');
  for (let i = 0; i < updates.length; i += 10_000) ws.appendMany(EntryKind.docUpdate, updates.slice(i, i + 10_000).map((u) => encodeDocUpdate(docId, u)));
  all = [...writer.ctx.store.allEntries(ws.id)];
  wsId = ws.id;
  writeUpdates(CACHE, all);
  writeFileSync(CACHE + '.key', JSON.stringify({ publicKey: toHex(readerKeys.agreement.publicKey), secretKey: toHex(readerKeys.agreement.secretKey) }));
}
const dir = mkdtempSync(join(tmpdir(), 'trellis-ingest-'));
const reader = ctx(new SqliteStore(join(dir, 'trellis.db')), readerKeys);
reader.ctx.store.addWorkspace(wsId);
const replica = new Workspace(reader.ctx, wsId, new Map());

// Main-thread CPU too: steadier than wall time on a shared machine.
const cpu = () => process.threadCpuUsage().user / 1000 + process.threadCpuUsage().system / 1000;
const c0 = cpu();
const t0 = performance.now();
const d = new Y.Doc();
for (const u of updates) Y.applyUpdate(d, u);
const bare = performance.now() - t0;
const bareCpu = cpu() - c0;

// --worker: the receiver's pipeline, batch i+1 hashed and opened on the worker thread while batch i
// is ingested (as a sync session does).
const useWorker = process.argv.includes('--worker');
const preparer = new EntryPreparer();
if (useWorker) { reader.ctx.preparer = preparer; await preparer.warm(); }
const batches: Uint8Array[][] = [];
const BATCH = Number(process.env.BATCH ?? 1000);
for (let i = 0; i < all.length; i += BATCH) batches.push(all.slice(i, i + BATCH));
let t1 = performance.now();
let c1 = cpu();
const from = new Uint8Array(32);
if (useWorker) {
  // As they come off the wire (sync protocol 2): packed by the sender, rebuilt on the worker.
  const packed = batches.map((b) => packEntries(b));
  t1 = performance.now(); // packing is the sender's work
  c1 = cpu();
  let next = replica.prepare({ packed: packed[0] });
  for (let b = 0; b < packed.length; b++) {
    const ready = await next;
    if (b + 1 < packed.length) next = replica.prepare({ packed: packed[b + 1] });
    replica.ingest(ready.entries, from, ready.prepared);
  }
} else {
  for (let i = 0; i < all.length; i += 1000) replica.ingest(all.slice(i, i + 1000), from);
}
const trellis = performance.now() - t1;
const trellisCpu = cpu() - c1;
if (useWorker) console.log(`worker: ${preparer.stats.batches} batches, CPU ${(preparer.stats.workerCpuMs / 1000).toFixed(3)} s`);
await preparer.close();
const ok = reader.docs.doc(replica.idHex, DOC).getText('text').toString().length;
console.log(`entries ${all.length}; bare Yjs ${(bare / 1000).toFixed(3)} s; Trellis ingest ${(trellis / 1000).toFixed(3)} s; ratio ${(trellis / bare).toFixed(2)}; main-thread CPU ${(bareCpu / 1000).toFixed(3)} / ${(trellisCpu / 1000).toFixed(3)} s (ratio ${(trellisCpu / bareCpu).toFixed(2)}); text ${ok} chars (bare ${d.getText('text').toString().length})`);
rmSync(dir, { recursive: true, force: true });
