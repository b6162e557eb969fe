// The rotation benchmark (issue 4): what removing one member costs in workspaces of 10, 100 and
// 1,000 members, beside the cost of one chat message in the same workspace.
//
// Removal is `Peer.removeMember`: find the member, draw a new epoch key, seal it to every
// remaining member's X25519 key, build and sign the public `remove` control entry, judge it,
// store it (SQLite, one transaction) and apply it. A second replica, held by one of the remaining
// members, then ingests that entry: chain and signature check, arrival checks, store, membership
// verdict, and opening its own sealed copy of the new key. A chat message goes through the same
// two steps (`Peer.sendChat`, then ingest on the second replica).
//
// Members are simulated identities: key pairs generated here, each added by an `add` control
// entry written directly through a Workspace on the manager's SQLite store, which a real Peer
// then opens. No network is involved (the Peer listens on loopback and nobody connects).
//
// Usage: node bench/rotation/run.ts [--sizes 10,100,1000] [--removals N] [--chats N] [--no-results]
//   --sizes      workspace sizes in members, manager included (default 10,100,1000)
//   --removals   removals measured per size, each of another member (default 5); medians reported
//   --chats      chat messages measured per size (default 20)
//   --no-results print only, do not append to bench/RESULTS.md
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { decodeEntry, EntryKind, MAX_ENTRY_BYTES } from '../../src/core/entry.ts';
import { deriveStorageKey, sealLocal } from '../../src/crypto/local-seal.ts';
import { agreementKeyPair, randomBytes, signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import { Peer } from '../../src/peer.ts';
import { createIdentity, type Identity } from '../../src/store/identity-file.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { ChatTool } from '../../src/tools/chat/chat-tool.ts';
import { addPayload } from '../../src/workspace/control-builders.ts';
import { createWorkspace } from '../../src/workspace/create-workspace.ts';
import { Workspace, type WorkspaceContext } from '../../src/workspace/workspace.ts';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
const TARGET_MS = 1000;
/** Members added per appendMany call while building (one SQLite transaction each). */
const ADD_BATCH = 100;

interface Options { sizes: number[]; removals: number; chats: number; results: boolean }

function parseArgs(argv: string[]): Options {
  const o: Options = { sizes: [10, 100, 1000], removals: 5, chats: 20, results: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a}: "${v}" is not a positive integer`);
      return n;
    };
    if (a === '--sizes') o.sizes = next().split(',').map(positive);
    else if (a === '--removals') o.removals = positive(next());
    else if (a === '--chats') o.chats = positive(next());
    else if (a === '--no-results') o.results = false;
    else throw new Error(`unknown argument ${a} (see the usage at the top of bench/rotation/run.ts)`);
  }
  for (const n of o.sizes) if (n < o.removals + 2) throw new Error(`size ${n} is too small for ${o.removals} removals and a second replica`);
  return o;
}

const say = (line: string) => process.stdout.write(line + '\n');
const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const kib = (b: number) => (b < 1024 ? `${Math.round(b)} B` : `${(b / 1024).toFixed(1)} KiB`);

interface Member { name: string; signing: KeyPair; agreement: KeyPair }

/** A Workspace context on a store, keys saved the way the Peer saves them, so a Peer can open it. */
function contextFor(id: { signing: KeyPair; agreement: KeyPair }, store: Store, chat: ChatTool): WorkspaceContext {
  const storageKey = deriveStorageKey(id.signing.secretKey);
  return {
    store, signing: id.signing, agreement: id.agreement, log: () => {},
    handlers: new Map([[chat.kind, chat]]),
    saveKey: (ws, epoch, key) => store.putKey(ws, epoch, sealLocal(key, storageKey, ws)),
  };
}

interface SizeFigures {
  members: number;
  buildMs: number;
  openMs: number;
  removeMs: number[];
  removeBytes: number[];
  ingestRemoveMs: number[];
  chatMs: number[];
  chatBytes: number[];
  ingestChatMs: number[];
}

async function measureSize(members: number, o: Options): Promise<SizeFigures> {
  const homes: string[] = [];
  const tempHome = (what: string) => { const h = mkdtempSync(join(tmpdir(), `trellis-rotation-${what}-`)); homes.push(h); return h; };
  try {
    // -- build: the manager's store with `members - 1` added members --
    const t0 = performance.now();
    const home = tempHome('manager');
    const manager: Identity = createIdentity(home, 'manager');
    const simulated: Member[] = Array.from({ length: members - 1 }, (_, i) => ({ name: `member-${i + 1}`, signing: signingKeyPair(), agreement: agreementKeyPair() }));
    let store: Store = new SqliteStore(join(home, 'trellis.db'));
    const { workspace } = createWorkspace(contextFor(manager, store, new ChatTool()), 'Rotation bench', manager.name);
    for (let i = 0; i < simulated.length; i += ADD_BATCH) {
      const payloads = simulated.slice(i, i + ADD_BATCH).map((m) => utf8.encode(JSON.stringify(addPayload(workspace, {
        key: toHex(m.signing.publicKey), agreementKey: toHex(m.agreement.publicKey), name: m.name, role: 'participant', invite: toHex(randomBytes(32)),
      }))));
      workspace.appendMany(EntryKind.control, payloads);
    }
    // -- the second replica: the last simulated member's, holding everything so far --
    const holder = simulated[simulated.length - 1];
    const replicaStore = new SqliteStore(join(tempHome('replica'), 'trellis.db'));
    replicaStore.addWorkspace(workspace.id);
    const replicaChat = new ChatTool();
    const replica = new Workspace(contextFor(holder, replicaStore, replicaChat), workspace.id, new Map());
    let batch: Uint8Array[] = [];
    const feed = () => { if (batch.length) replica.ingest(batch, manager.signing.publicKey); batch = []; };
    for (const bytes of store.allEntries(workspace.id)) { batch.push(bytes); if (batch.length === 1000) feed(); }
    feed();
    if (replica.state.members.size !== members) throw new Error(`replica holds ${replica.state.members.size} members, expected ${members}`);
    store.close();
    const buildMs = performance.now() - t0;

    // -- the manager's Peer opens that store (replaying it) --
    const t1 = performance.now();
    store = new SqliteStore(join(home, 'trellis.db'));
    const peer = await Peer.start({ home, store, mdns: false, log: () => {} });
    const openMs = performance.now() - t1;
    const f: SizeFigures = { members, buildMs, openMs, removeMs: [], removeBytes: [], ingestRemoveMs: [], chatMs: [], chatBytes: [], ingestChatMs: [] };
    try {
      const ws = workspace.idHex;
      const self = manager.signing.publicKey;
      /** The entries we wrote since `seq`, in order. */
      const newEntries = (afterSeq: number) => store.readAfter(workspace.id, self, afterSeq, 10).map((r) => r.bytes);
      const headSeq = () => peer.heads(ws)[toHex(self)] ?? 0;
      const ingest = (bytes: Uint8Array[]): number => {
        const t = performance.now();
        const report = replica.ingest(bytes, self);
        const took = performance.now() - t;
        if (report.accepted !== bytes.length || report.rejected.length) throw new Error(`the replica refused an entry: ${JSON.stringify(report.rejected)}`);
        return took;
      };
      // Chats and removals alternate, so every removal finds a workspace with recent content.
      for (let i = 0; i < Math.max(o.chats, o.removals); i++) {
        if (i < o.chats) {
          const before = headSeq();
          const t = performance.now();
          await peer.sendChat(ws, `message ${i} in a workspace of ${members}`);
          f.chatMs.push(performance.now() - t);
          const written = newEntries(before);
          f.chatBytes.push(written.reduce((n, b) => n + b.byteLength, 0));
          f.ingestChatMs.push(ingest(written));
        }
        if (i < o.removals) {
          const target = simulated[i];
          const before = headSeq();
          const t = performance.now();
          await peer.removeMember(ws, toHex(target.signing.publicKey));
          f.removeMs.push(performance.now() - t);
          const written = newEntries(before);
          if (written.length !== 1 || decodeEntry(written[0]).kind !== EntryKind.control) throw new Error(`a removal wrote ${written.length} entries`);
          f.removeBytes.push(written[0].byteLength);
          f.ingestRemoveMs.push(ingest(written));
          // The replica's member reads the new epoch; the removed member's key is not in it.
          const epoch = peer.epochs(ws).current;
          if (replica.currentEpoch !== epoch || !replica.keyFor(epoch)) throw new Error('the replica did not get the new epoch key');
          if (replica.isMember(toHex(target.signing.publicKey))) throw new Error('the replica still counts the removed member');
        }
      }
      const lastChat = replicaChat.log(ws).at(-1)?.text;
      if (lastChat !== `message ${o.chats - 1} in a workspace of ${members}`) throw new Error(`the replica cannot read the last message: ${lastChat}`);
    } finally {
      await peer.stop();
      replicaStore.close();
    }
    return f;
  } finally {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
}

/** Bytes of the rotation entry per remaining member, at the largest size measured. */
function largestPerMember(all: SizeFigures[]): number | undefined {
  const f = all.reduce<SizeFigures | undefined>((best, x) => (!best || x.members > best.members ? x : best), undefined);
  return f ? median(f.removeBytes) / (f.members - 1) : undefined;
}

function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const sqlite = process.versions.sqlite ? `, SQLite ${process.versions.sqlite}` : '';
  return `${availableParallelism()} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}${sqlite}, load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}

function rows(all: SizeFigures[]): string[][] {
  return all.map((f) => {
    const remaining = f.members - 1;
    const rb = median(f.removeBytes);
    return [
      f.members.toLocaleString('en-US'),
      `**${ms(median(f.removeMs))}** (${ms(Math.min(...f.removeMs))}–${ms(Math.max(...f.removeMs))})`,
      `${kib(rb)} (${(rb / remaining).toFixed(0)} B/member)`,
      ms(median(f.ingestRemoveMs)),
      ms(median(f.chatMs)),
      kib(median(f.chatBytes)),
      ms(median(f.ingestChatMs)),
      `${(median(f.removeMs) / median(f.chatMs)).toFixed(0)}×`,
      `${(f.buildMs / 1000).toFixed(1)} s / ${ms(f.openMs)}`,
    ];
  });
}

const HEADER = ['members', 'removeMember (min–max)', 'rotation entry', 'replica ingest + apply', 'sendChat', 'chat entry', 'replica ingest chat', 'removal / chat', 'build / Peer open'];

function table(header: string[], body: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '--:').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = new Date();
  const host = machine();
  say(`rotation benchmark: sizes ${o.sizes.join(', ')}; ${o.removals} removals and ${o.chats} chat messages each`);
  say(host);
  const all: SizeFigures[] = [];
  for (const n of o.sizes) {
    const f = await measureSize(n, o);
    all.push(f);
    say(`${n} members: removeMember median ${ms(median(f.removeMs))}, rotation entry ${kib(median(f.removeBytes))}, replica ingest ${ms(median(f.ingestRemoveMs))}; chat ${ms(median(f.chatMs))}, ${kib(median(f.chatBytes))}, ingest ${ms(median(f.ingestChatMs))}`);
  }
  const lines = table(HEADER, rows(all));
  say('');
  for (const l of lines) say(l);
  const largest = all.find((f) => f.members === 1000);
  const verdict = largest ? `1,000 members: removeMember median ${ms(median(largest.removeMs))}, slowest ${ms(Math.max(...largest.removeMs))} (target < ${TARGET_MS} ms: ${Math.max(...largest.removeMs) < TARGET_MS ? 'met' : 'NOT met'}).` : '';
  // One rotation entry carries a sealed key per remaining member, so the entry size limit caps a workspace's size.
  const perMember = largestPerMember(all);
  const capacity = perMember ? `At ${perMember.toFixed(0)} B per remaining member, one rotation entry reaches the ${MAX_ENTRY_BYTES / 1024 / 1024} MiB entry limit at about ${(Math.floor(MAX_ENTRY_BYTES / perMember / 100) * 100).toLocaleString('en-US')} members.` : '';
  if (verdict) say(verdict);
  if (capacity) say(capacity);
  if (!o.results) return;
  const section = [
    '',
    `## ${started.toISOString().slice(0, 10)}: key rotation, removing one member (${started.toISOString()})`,
    '',
    `Machine: ${host}.`,
    `Method: \`npm run bench:rotation\` (bench/rotation/run.ts). Simulated members (key pairs generated in-process, added by \`add\` entries on the manager's SQLite store); the manager's real \`Peer\` opens it. Per size, ${o.removals} removals of different members (medians; each rotation seals a new key to the ~N remaining members) alternate with ${o.chats} chat messages. "Replica ingest" is \`Workspace.ingest\` of that one entry on a second replica (SQLite) held by a remaining member: verify, store, membership verdict, open its copy of the new key. No network.`,
    '',
    ...table(HEADER, rows(all)),
    '',
    [verdict, capacity].filter(Boolean).join(' '),
  ];
  const existing = (() => { try { return readFileSync(RESULTS, 'utf8'); } catch { return ''; } })();
  appendFileSync(RESULTS, (existing === '' ? '# Benchmark results\n' : existing.endsWith('\n') ? '' : '\n') + section.join('\n') + '\n');
  say(`appended to ${RESULTS}`);
}

await main();
