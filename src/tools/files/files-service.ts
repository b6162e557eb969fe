// The files tool of a peer: add files and folders, list them and their versions, get them back,
// delete and restore; serves chunks to other members and fetches them, on demand or (keep-all)
// in the background, from members and from the workspace's relays; hands the chunks it holds to
// those relays (what they lack), so that others can fetch a file while its author is offline.
// The daemon's routes call this; paths here are paths on this machine.
import { lstat, opendir, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { fromHex, toHex } from '../../core/bytes.ts';
import type { ByteStream } from '../../core/byte-stream.ts';
import { TrellisError } from '../../core/errors.ts';
import { randomBytes } from '../../crypto/sodium.ts';
import { CHUNK_OVERHEAD } from '../../crypto/stream-seal.ts';
import type { DocAccess } from '../doc-access.ts';
import { CHUNKS_PROTOCOL, CHUNKS_PUSH_PROTOCOL } from './chunk-frames.ts';
import { fetchChunks, type FetchResult, type FetchSource } from './chunk-fetcher.ts';
import { PushRefused, pushChunks } from './chunk-pusher.ts';
import { serveChunks } from './chunk-server.ts';
import { ChunkStore } from './chunk-store.ts';
import { Assembler, PART_SUFFIX, type AssemblyTarget } from './file-assembler.ts';
import { chunksOf, filesDocId, readManifest, writeVersion, type FileVersion, type ManifestView } from './manifest.ts';
import { baseName, localPath, normalizeName, printable } from './paths.ts';
import { explainWriteError, isWriteOnlyFailure } from '../../core/io-errors.ts';
import { Progress } from './progress.ts';
import { CHUNK_SIZE, sealFile } from './seal-file.ts';
import { AddJournal } from './add-journal.ts';
import { FilesSettings, isFetchPolicy, type FetchPolicy } from './settings.ts';

export { CHUNKS_PROTOCOL };
export type { FetchPolicy };

/** What the service needs of the network: a NetNode fits. */
export interface FilesNet {
  connectedPeers(): { peerId: string; publicKey: Uint8Array }[];
  openStream(target: string, protocol: string, timeoutMs?: number): Promise<{ stream: ByteStream; remote: { peerId: string; publicKey: Uint8Array } }>;
  onPeerConnected(cb: (p: { peerId: string; publicKey: Uint8Array }) => void): void;
}

/** The relays attached to workspaces (the peer reads them from each workspace's control entries). */
export interface FilesRelays {
  /** Keys (hex) of the relays attached to the workspace. */
  of(ws: string): string[];
  /** Workspaces (hex ids) the relay is attached to. */
  workspacesOf(relayKeyHex: string): string[];
}

/** Sent on the daemon's event socket while a file is added or fetched. */
export interface FileProgressEvent {
  type: 'file-progress';
  workspace: string;
  /** The shared name (a file, or the folder being added or fetched). */
  name: string;
  op: 'add' | 'get';
  /** Plaintext bytes done and in all. */
  done: number;
  total: number;
  /** The caller's job id, if it gave one (the CLI does, to follow its own transfer). */
  job?: string;
}

export interface FilesServiceOptions {
  home: string;
  docs: DocAccess;
  net: FilesNet;
  log: (line: string) => void;
  emit: (e: FileProgressEvent) => void;
  /** Relays: sources to fetch from, and where the chunks held here are pushed. None if absent. */
  relays?: FilesRelays;
  /** Transfer tuning (tests shorten the timeouts). */
  window?: number;
  stallMs?: number;
  missingMs?: number;
  /** How long a fetch waits for a first member to connect. Default 5 s. */
  startMs?: number;
}

export interface FileInfo {
  name: string;
  /** Number of the current version. */
  version: number;
  /** Id of the current version. */
  id: string;
  versions: number;
  size: number;
  author: string;
  authorName: string;
  time: number;
  deleted: boolean;
  /** Every chunk of the current version is on this device. */
  local: boolean;
}

export interface VersionInfo {
  id: string;
  version: number;
  size: number;
  author: string;
  authorName: string;
  time: number;
  deleted: boolean;
  /** For a restore: the number of the version it copies. */
  restoredFrom?: number;
  local: boolean;
}

export interface AddResult {
  added: { name: string; version: number; id: string; size: number; chunks: number }[];
  /** Entries of a folder that were not added (symbolic links, devices, unusable names). */
  skipped: { path: string; reason: string }[];
}

export interface GetResult {
  files: { name: string; version: number; path: string; size: number }[];
  /** Distinct chunks of the file(s). */
  chunks: number;
  /** Chunks already on this device: in partial files of an interrupted get (`resumed`) or in the chunk store. */
  local: number;
  resumed: number;
  /** Chunks fetched from members, and how many arrived corrupted (and were fetched again). */
  fetched: number;
  corrupt: number;
}

export interface FilesStats {
  chunksFetched: number;
  bytesFetched: number;
  chunksCorrupt: number;
  chunksServed: number;
  bytesServed: number;
  chunksAdded: number;
  /** Chunks handed to relays, and their bytes. */
  chunksPushed: number;
  bytesPushed: number;
}

export interface TestHooks {
  /** Alters a sealed chunk in an outgoing CHUNK frame (to play a bad server in tests). */
  tamper?: (hashHex: string, frame: Uint8Array) => void;
}

const MAX_FOLDER_FILES = 100_000;
const KEEP_ALL_DEBOUNCE_MS = 300;
const KEEP_ALL_RETRY_MS = 30_000;
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** After connecting to a relay, give the sync session a moment to bring its membership up to date. */
const PUSH_ON_CONNECT_MS = 1000;
const PUSH_RETRY_MIN_MS = 1000;
const PUSH_RETRY_MAX_MS = 30_000;
/** Failed pushes to one relay in a row before waiting for the next reason (a connection, an add). */
const PUSH_MAX_FAILURES = 8;
/** A relay whose quota is full is tried again this much later. */
const PUSH_QUOTA_RETRY_MS = 60_000;

interface PushJob { running: boolean; again: boolean; failures: number; timer?: NodeJS.Timeout }

interface LocalFile { path: string; name: string; size: number }

export class FilesService {
  readonly store: ChunkStore;
  readonly hooks: TestHooks = {};
  private readonly docs: DocAccess;
  private readonly net: FilesNet;
  private readonly log: (line: string) => void;
  private readonly emit: (e: FileProgressEvent) => void;
  private readonly settings: FilesSettings;
  private readonly journal: AddJournal;
  private readonly opts: FilesServiceOptions;
  private readonly docIds = new Map<string, string>();
  private readonly views = new Map<string, ManifestView>();
  private readonly chunkSets = new Map<string, Set<string>>();
  private readonly keepAllJobs = new Map<string, { running: boolean; again: boolean; timer?: NodeJS.Timeout }>();
  /** `${ws}/${relay}`: pushes to that relay, and the chunks it is known to hold (this run). */
  private readonly pushJobs = new Map<string, PushJob>();
  private readonly atRelay = new Map<string, Set<string>>();
  private readonly aborter = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private readonly counters: FilesStats = { chunksFetched: 0, bytesFetched: 0, chunksCorrupt: 0, chunksServed: 0, bytesServed: 0, chunksAdded: 0, chunksPushed: 0, bytesPushed: 0 };

  constructor(opts: FilesServiceOptions) {
    this.opts = opts;
    this.docs = opts.docs;
    this.net = opts.net;
    this.log = opts.log;
    this.emit = opts.emit;
    this.store = new ChunkStore(join(opts.home, 'chunks'));
    this.settings = new FilesSettings(join(opts.home, 'files'), opts.log);
    this.journal = new AddJournal(join(opts.home, 'files', 'adding'));
  }

  /** Starts watching manifests and connections (keep-all fetching). */
  start(): void {
    this.removeUnfinishedAdds();
    this.unsubscribe = this.docs.onDocChange((ws, doc) => {
      if (doc !== this.docId(ws)) return;
      this.views.delete(ws);
      this.chunkSets.delete(ws);
      if (this.settings.policy(ws) === 'keep-all') this.scheduleKeepAll(ws, KEEP_ALL_DEBOUNCE_MS);
      // A new version may list chunks held here that a relay lacks (a restore); chunks a relay
      // confirmed earlier are not asked about again, so this costs nothing when there are none.
      this.schedulePush(ws, KEEP_ALL_DEBOUNCE_MS);
    });
    this.net.onPeerConnected((p) => {
      for (const ws of this.settings.keepAll()) this.scheduleKeepAll(ws, KEEP_ALL_DEBOUNCE_MS);
      // A relay of our workspaces: hand it the chunks it lacks (new ones, or left over from a push cut short).
      // What it held when we last asked is asked again: it may have been detached and attached since.
      const key = toHex(p.publicKey);
      for (const ws of this.opts.relays?.workspacesOf(key) ?? []) {
        this.atRelay.delete(`${ws}/${key}`);
        this.schedulePushTo(ws, key, PUSH_ON_CONNECT_MS);
      }
    });
    for (const ws of this.settings.keepAll()) this.scheduleKeepAll(ws, KEEP_ALL_DEBOUNCE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.aborter.abort();
    for (const j of this.keepAllJobs.values()) clearTimeout(j.timer);
    for (const j of this.pushJobs.values()) clearTimeout(j.timer);
  }

  stats(): FilesStats {
    return { ...this.counters };
  }

  /**
   * Chunks that workspace `ws` lists and none of `others` does: what deleting `ws` from this
   * device frees. Read before its documents go (forgetWorkspace then removes them).
   */
  chunksOnlyOf(ws: string, others: string[]): string[] {
    const elsewhere = others.map((o) => this.chunkSet(o));
    return [...this.chunkSet(ws)].filter((h) => this.store.has(h) && !elsewhere.some((set) => set.has(h)));
  }

  /** Workspace `ws` was deleted from this device: its chunks (chunksOnlyOf), setting and jobs go. */
  forgetWorkspace(ws: string, chunks: string[]): void {
    for (const h of chunks) {
      try { this.store.removeSync(h); } catch (err) { this.log(`files: cannot remove a chunk of a deleted workspace: ${(err as Error).message}`); }
    }
    const job = this.keepAllJobs.get(ws);
    clearTimeout(job?.timer);
    this.keepAllJobs.delete(ws);
    for (const [k, j] of this.pushJobs) if (k.startsWith(`${ws}/`)) { clearTimeout(j.timer); this.pushJobs.delete(k); }
    for (const k of this.atRelay.keys()) if (k.startsWith(`${ws}/`)) this.atRelay.delete(k);
    this.views.delete(ws);
    this.chunkSets.delete(ws);
    this.docIds.delete(ws);
    if (this.settings.policy(ws) !== 'on-demand') this.settings.set(ws, 'on-demand');
    if (chunks.length > 0) this.log(`files: removed ${chunks.length} chunk(s) of a deleted workspace`);
  }

  /**
   * Chunks of adds that a crash or a kill cut short (add-journal.ts): no version refers to them,
   * and none ever will (their file key died with the add), so they only took space. An add whose
   * version made it into the manifest keeps its chunks.
   */
  private removeUnfinishedAdds(): void {
    for (const left of this.journal.leftOver()) {
      let held = true;
      try { this.docs.resolveWorkspace(left.workspace); } catch (err) {
        if (!(err instanceof TrellisError && err.code === 'not-found')) throw err;
        held = false;
      }
      const listed = held ? this.chunkSet(left.workspace) : new Set<string>();
      if (!left.chunks.some((h) => listed.has(h))) {
        for (const h of left.chunks) this.store.removeSync(h);
        if (left.chunks.length > 0) this.log(`files: removed ${left.chunks.length} chunk(s) of an add that did not finish`);
      }
      left.remove();
    }
  }

  // ---- manifest ----

  private docId(ws: string): string {
    let id = this.docIds.get(ws);
    if (!id) { id = filesDocId(ws); this.docIds.set(ws, id); }
    return id;
  }

  private view(ws: string): ManifestView {
    let v = this.views.get(ws);
    if (!v) { v = readManifest(this.docs.doc(ws, this.docId(ws))); this.views.set(ws, v); }
    return v;
  }

  /** Every chunk listed by a version of the workspace (what the server may hand out). */
  private chunkSet(ws: string): Set<string> {
    let s = this.chunkSets.get(ws);
    if (s) return s;
    s = new Set();
    for (const versions of this.view(ws).byName.values()) {
      for (const v of versions) {
        if (v.deleted) continue;
        try { for (const h of chunksOf(v)) s.add(h); } catch { /* a damaged version lists nothing */ }
      }
    }
    this.chunkSets.set(ws, s);
    return s;
  }

  private names(ws: string): Map<string, string> {
    return new Map(this.docs.memberList(ws).map((m) => [m.key, m.name]));
  }

  private isLocal(v: FileVersion): boolean {
    if (v.deleted) return false;
    try { return chunksOf(v).every((h) => this.store.has(h)); } catch { return false; }
  }

  /**
   * Throws TrellisError('forbidden') unless our role may change the manifest. An empty change is
   * the probe: DocAccess checks permission first and writes nothing for it, so the workspace's own
   * permission rules decide, and a refused add fails before any chunk is sealed.
   */
  private mayWrite(ws: string): void {
    try {
      this.docs.changeDoc(ws, this.docId(ws), () => {});
    } catch (err) {
      if (err instanceof TrellisError && err.code === 'forbidden') {
        throw new TrellisError('forbidden', `${err.message}: you can get files but not add, delete or restore them`);
      }
      throw err;
    }
  }

  private findVersion(ws: string, name: string, version: number | string | undefined): FileVersion {
    const versions = this.view(ws).versions(name);
    if (versions.length === 0) throw new TrellisError('not-found', `no file "${printable(name)}" in this workspace (see trellis files list)`);
    if (version === undefined) return versions[versions.length - 1];
    const v = typeof version === 'number' ? versions[version - 1] : versions.find((x) => x.id === version);
    if (!v) throw new TrellisError('not-found', `"${printable(name)}" has no version ${version} (it has ${versions.length}; see trellis files versions)`);
    return v;
  }

  // ---- API ----

  list(wsIn: string, opts: { deleted?: boolean } = {}): FileInfo[] {
    const ws = this.docs.resolveWorkspace(wsIn);
    const view = this.view(ws);
    const names = this.names(ws);
    const out: FileInfo[] = [];
    for (const name of view.names()) {
      const versions = view.versions(name);
      const v = versions[versions.length - 1];
      if (v.deleted && !opts.deleted) continue;
      out.push({
        name, version: v.version, id: v.id, versions: versions.length, size: v.size, author: v.author, authorName: names.get(v.author) ?? '',
        time: v.time, deleted: v.deleted, local: this.isLocal(v),
      });
    }
    return out;
  }

  versions(wsIn: string, nameIn: string): VersionInfo[] {
    const ws = this.docs.resolveWorkspace(wsIn);
    const name = normalizeName(nameIn);
    const view = this.view(ws);
    const versions = view.versions(name);
    if (versions.length === 0) throw new TrellisError('not-found', `no file "${printable(name)}" in this workspace (see trellis files list)`);
    const names = this.names(ws);
    return versions.map((v) => this.versionInfo(v, view, names));
  }

  private versionInfo(v: FileVersion, view: ManifestView, names: Map<string, string>): VersionInfo {
    const from = v.restoredFrom !== undefined ? view.byId.get(v.restoredFrom) : undefined;
    return {
      id: v.id, version: v.version, size: v.size, author: v.author, authorName: names.get(v.author) ?? '', time: v.time, deleted: v.deleted,
      ...(from ? { restoredFrom: from.version } : {}), local: this.isLocal(v),
    };
  }

  policy(wsIn: string): FetchPolicy {
    return this.settings.policy(this.docs.resolveWorkspace(wsIn));
  }

  setPolicy(wsIn: string, policy: FetchPolicy): FetchPolicy {
    const ws = this.docs.resolveWorkspace(wsIn);
    if (!isFetchPolicy(policy)) throw new TrellisError('invalid', 'the policy is "on-demand" or "keep-all"');
    this.settings.set(ws, policy);
    if (policy === 'keep-all') this.scheduleKeepAll(ws, 0);
    return policy;
  }

  async add(wsIn: string, pathIn: string, opts: { as?: string; job?: string } = {}): Promise<AddResult> {
    const ws = this.docs.resolveWorkspace(wsIn);
    const path = localPath(pathIn, 'path to add');
    const job = checkJob(opts.job);
    this.mayWrite(ws);
    let st;
    try { st = await stat(path); } catch { throw new TrellisError('invalid', `nothing to add at ${printable(path)}: no such file or folder (or no permission to read it)`); }
    const top = normalizeName(opts.as ?? basename(path), opts.as !== undefined ? 'name' : 'file name');
    const skipped: AddResult['skipped'] = [];
    let files: LocalFile[];
    if (st.isFile()) files = [{ path, name: top, size: st.size }];
    else if (st.isDirectory()) files = await walk(path, top, skipped);
    else throw new TrellisError('invalid', `${printable(path)} is neither a regular file nor a folder`);

    const progress = new Progress(files.reduce((n, f) => n + f.size, 0), (done, total) => {
      this.emit({ type: 'file-progress', workspace: ws, name: top, op: 'add', done, total, ...(job ? { job } : {}) });
    });
    for (const f of files) {
      if (f.name.endsWith(PART_SUFFIX)) throw new TrellisError('invalid', `"${printable(f.name)}" ends in ${PART_SUFFIX}, the suffix of partial downloads: add it under another name (--as)`);
    }
    const added: AddResult['added'] = [];
    // Version numbers from one reading of the manifest (re-reading it per file would make adding a
    // large folder quadratic); a concurrent add elsewhere may shift them, as the manifest explains.
    const view = this.view(ws);
    const counts = new Map<string, number>();
    for (const f of files) {
      let sealed;
      const journal = this.journal.begin(ws);
      try {
        sealed = await sealFile(f.path, this.store, (n) => progress.add(n), { sync: true, signal: this.aborter.signal, journal });
      } catch (err) {
        journal.close(); // sealFile removed what it had stored
        if (err instanceof TrellisError) throw err;
        // Writing the sealed chunks (a full disk, say) is about this peer's home, not the file.
        if (isWriteOnlyFailure(err) || this.inStore(err)) throw explainWriteError(err, `the chunk store (${printable(this.store.dir)})`, 'add it again');
        if (st.isDirectory()) { skipped.push({ path: f.path, reason: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }); continue; }
        throw new TrellisError('invalid', `cannot read ${printable(f.path)}: ${(err as Error).message}`);
      }
      this.counters.chunksAdded += sealed.chunks.length;
      const id = toHex(randomBytes(16));
      const version = (counts.get(f.name) ?? view.versions(f.name).length) + 1;
      counts.set(f.name, version);
      try {
        writeVersion(this.docs, ws, this.docId(ws), id, {
          name: f.name, version, size: sealed.size, chunkSize: sealed.chunkSize, fileKey: sealed.fileKey, author: this.docs.keyHex, time: Date.now(),
        }, sealed.chunks);
      } catch (err) {
        // No manifest entry (a full disk, say): nothing can refer to these chunks.
        for (const h of sealed.chunks) await this.store.remove(h).catch(() => undefined);
        throw err;
      } finally {
        journal.close();
      }
      added.push({ name: f.name, version, id, size: sealed.size, chunks: sealed.chunks.length });
    }
    this.views.delete(ws);
    this.chunkSets.delete(ws);
    progress.finish();
    this.log(`files: added ${added.length} file(s), ${skipped.length} skipped, in ${ws.slice(0, 8)}`);
    // Upload to the relays in the background: members can then fetch while we are offline.
    if (added.length > 0) this.schedulePush(ws, 0);
    return { added, skipped };
  }

  async get(wsIn: string, nameIn: string, destIn: string, opts: { version?: number | string; force?: boolean; job?: string } = {}): Promise<GetResult> {
    const ws = this.docs.resolveWorkspace(wsIn);
    const name = normalizeName(nameIn);
    const dest = localPath(destIn, 'destination');
    const job = checkJob(opts.job);
    const view = this.view(ws);
    const destIsDir = await isDirectory(dest);
    const targets: AssemblyTarget[] = [];
    if (view.versions(name).length > 0) {
      const v = this.findVersion(ws, name, opts.version);
      if (v.deleted) throw new TrellisError('not-found', `"${printable(name)}" was deleted (version ${v.version}): restore it, or get an older version with --version`);
      targets.push({ name, version: v, chunks: damagedIsInvalid(v), path: destIsDir ? join(dest, baseName(name)) : dest });
    } else {
      const under = view.under(name);
      if (under.length === 0) throw new TrellisError('not-found', `no file or folder "${printable(name)}" in this workspace (see trellis files list)`);
      if (opts.version !== undefined) throw new TrellisError('invalid', `"${printable(name)}" is a folder: --version applies to a single file`);
      const root = destIsDir ? join(dest, baseName(name)) : dest;
      for (const n of under) {
        const v = view.latest(n)!;
        if (v.deleted) continue;
        targets.push({ name: n, version: v, chunks: damagedIsInvalid(v), path: join(root, n.slice(name.length + 1)) });
      }
    }
    for (const t of targets) {
      if (t.path.endsWith(PART_SUFFIX)) throw new TrellisError('invalid', `"${printable(t.name)}" ends in ${PART_SUFFIX}, the suffix of partial downloads: get it under another name`);
      const existing = await lstat(t.path).catch(() => undefined);
      if (existing?.isDirectory()) throw new TrellisError('conflict', `${printable(t.path)} is a folder: choose another destination`);
      if (existing && !opts.force) throw new TrellisError('conflict', `${printable(t.path)} exists already: pass --force to overwrite it`);
    }
    if (targets.length === 1 && !(await isDirectory(join(targets[0].path, '..')))) {
      throw new TrellisError('not-found', `the folder ${printable(join(targets[0].path, '..'))} does not exist`);
    }

    const total = targets.reduce((n, t) => n + t.version.size, 0);
    const progress = new Progress(total, (done) => {
      this.emit({ type: 'file-progress', workspace: ws, name, op: 'get', done, total, ...(job ? { job } : {}) });
    });
    const asm = new Assembler(targets, (n) => progress.add(n));
    const chunks = asm.hashes().length;
    // keep-all: what is fetched is kept (and served); on demand, a get writes only the file.
    const keep = this.settings.policy(ws) === 'keep-all';
    let resumed = 0;
    let local = 0;
    let fetched: FetchResult = { fetched: 0, bytes: 0, corrupt: 0 };
    try {
      // What an interrupted attempt left in the partial files, then what the chunk store holds
      // (chunks added here, or kept by keep-all).
      resumed = await asm.resume();
      const missing: string[] = [];
      for (const h of asm.hashes()) {
        if (!this.store.has(h)) { missing.push(h); continue; }
        const sealed = this.store.readSync(h);
        if (sealed !== undefined && await asm.write(h, sealed)) { local++; continue; }
        // A damaged local copy: drop it and fetch it again.
        this.log('files: a stored chunk did not decrypt; fetching it again');
        await this.store.remove(h);
        missing.push(h);
      }
      if (missing.length > 0) {
        fetched = await this.fetch(ws, missing, async (h, sealed) => {
          // The fetcher checked its SHA-256.
          if (!(await asm.write(h, sealed, true))) {
            throw new TrellisError('invalid', `"${printable(name)}" is damaged: a chunk matches its hash but does not decrypt with the file's key (a bad manifest entry)`);
          }
          if (keep) await this.store.write(h, sealed);
        }, targets.reduce((m, t) => Math.max(m, t.version.chunkSize), CHUNK_SIZE) + CHUNK_OVERHEAD);
      }
    } catch (err) {
      // The partial files stay: the next get resumes from them.
      await asm.abandon();
      this.log(`files: get in ${ws.slice(0, 8)} failed after ${resumed} resumed, ${local} local and ${fetched.fetched} fetched chunk(s) of ${chunks}: ${(err as Error).message}`);
      // A full disk or a forbidden folder where the file goes (or, keeping all, in the chunk store).
      throw explainWriteError(err, this.inStore(err) ? `the chunk store (${printable(this.store.dir)})` : printable(dest), 'run the same command again: it resumes from what was written');
    }
    progress.finish();
    this.log(`files: get in ${ws.slice(0, 8)}: ${chunks} chunk(s), ${resumed} resumed from a partial file, ${local} from the chunk store, ${fetched.fetched} fetched, ${fetched.corrupt} corrupt`);
    return {
      files: asm.completed().map((t) => ({ name: t.name, version: t.version.version, path: t.path, size: t.version.size })),
      chunks, local: resumed + local, resumed, fetched: fetched.fetched, corrupt: fetched.corrupt,
    };
  }

  /** Did `err` happen on a path inside the chunk store? */
  private inStore(err: unknown): boolean {
    const path = (err as NodeJS.ErrnoException).path;
    return typeof path === 'string' && (path === this.store.dir || path.startsWith(this.store.dir + sep));
  }

  rm(wsIn: string, nameIn: string): { removed: string[] } {
    const ws = this.docs.resolveWorkspace(wsIn);
    const name = normalizeName(nameIn);
    this.mayWrite(ws);
    const view = this.view(ws);
    const names = view.versions(name).length > 0 ? [name] : view.under(name);
    const live = names.filter((n) => !view.latest(n)!.deleted);
    if (live.length === 0) {
      throw new TrellisError('not-found', names.length > 0 ? `"${printable(name)}" is deleted already` : `no file or folder "${printable(name)}" in this workspace`);
    }
    for (const n of live) {
      writeVersion(this.docs, ws, this.docId(ws), toHex(randomBytes(16)), {
        name: n, version: view.versions(n).length + 1, size: 0, chunkSize: CHUNK_SIZE, fileKey: '', author: this.docs.keyHex, time: Date.now(), deleted: true,
      }, []);
    }
    this.views.delete(ws);
    this.chunkSets.delete(ws);
    return { removed: live };
  }

  restore(wsIn: string, nameIn: string, version: number | string): VersionInfo {
    const ws = this.docs.resolveWorkspace(wsIn);
    const name = normalizeName(nameIn);
    this.mayWrite(ws);
    const old = this.findVersion(ws, name, version);
    if (old.deleted) throw new TrellisError('invalid', `version ${old.version} of "${printable(name)}" is a deletion: restore a version before it`);
    const chunks = damagedIsInvalid(old);
    const id = toHex(randomBytes(16));
    // The restored version reuses the old sealed chunks and key: nothing is re-encrypted or re-sent.
    writeVersion(this.docs, ws, this.docId(ws), id, {
      name, version: this.view(ws).versions(name).length + 1, size: old.size, chunkSize: old.chunkSize, fileKey: old.fileKey,
      author: this.docs.keyHex, time: Date.now(), restoredFrom: old.id,
    }, chunks);
    this.views.delete(ws);
    this.chunkSets.delete(ws);
    const view = this.view(ws);
    return this.versionInfo(view.byId.get(id)!, view, this.names(ws));
  }

  // ---- transfer ----

  /** Answers one incoming /trellis/chunks/1.0.0 stream. */
  serve(stream: ByteStream, remote: { publicKey: Uint8Array }): void {
    void serveChunks(stream, toHex(remote.publicKey), {
      store: this.store,
      hasWorkspace: (ws) => { try { return this.docs.resolveWorkspace(ws) === ws; } catch { return false; } },
      isMember: (ws, key) => this.docs.memberList(ws).some((m) => m.key === key),
      lists: (ws, h) => this.chunkSet(ws).has(h),
      log: this.log,
      served: (bytes) => { this.counters.chunksServed++; this.counters.bytesServed += bytes; },
      tamper: this.hooks.tamper,
    });
  }

  /** Connected members and relays of the workspace: who may hold its chunks. */
  private sources(ws: string): FetchSource[] {
    const holders = new Set(this.docs.memberList(ws).map((m) => m.key));
    for (const r of this.opts.relays?.of(ws) ?? []) holders.add(r);
    const out: FetchSource[] = [];
    for (const p of this.net.connectedPeers()) {
      const key = toHex(p.publicKey);
      if (key !== this.docs.keyHex && holders.has(key)) out.push({ key, peerId: p.peerId });
    }
    return out;
  }

  /** `chunkBytes`: the largest sealed chunk among them, when known (see FetchOptions). */
  private async fetch(ws: string, hashes: string[], accept: (h: string, sealed: Uint8Array) => Promise<void>, chunkBytes?: number): Promise<FetchResult> {
    if (this.stopped) throw new TrellisError('unavailable', 'the peer is stopping');
    await this.waitForSource(ws);
    return fetchChunks(hashes, {
      workspace: fromHex(ws),
      sources: () => this.sources(ws),
      open: async (peerId) => (await this.net.openStream(peerId, CHUNKS_PROTOCOL)).stream,
      accept: async (h, sealed) => {
        await accept(h, sealed);
        this.counters.chunksFetched++;
        this.counters.bytesFetched += sealed.byteLength;
      },
      log: this.log,
      onCorrupt: () => { this.counters.chunksCorrupt++; },
      signal: this.aborter.signal,
      ...(chunkBytes !== undefined ? { chunkBytes } : {}),
      ...(this.opts.window !== undefined ? { window: this.opts.window } : {}),
      ...(this.opts.stallMs !== undefined ? { stallMs: this.opts.stallMs } : {}),
      ...(this.opts.missingMs !== undefined ? { missingMs: this.opts.missingMs } : {}),
    });
  }

  /** A fetch with nobody to ask fails soon rather than after the stall timeout. */
  private async waitForSource(ws: string): Promise<void> {
    const deadline = Date.now() + (this.opts.startMs ?? 5000);
    while (this.sources(ws).length === 0) {
      if (Date.now() >= deadline || this.stopped) {
        throw new TrellisError('unavailable', 'no other member of this workspace, and none of its relays, is connected: the chunks this device lacks can only come from one (is their peer running?)');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private scheduleKeepAll(ws: string, delayMs: number): void {
    if (this.stopped) return;
    let j = this.keepAllJobs.get(ws);
    if (!j) { j = { running: false, again: false }; this.keepAllJobs.set(ws, j); }
    if (j.running) { j.again = true; return; }
    clearTimeout(j.timer);
    const job = j;
    job.timer = setTimeout(() => { void this.keepAll(ws, job); }, delayMs);
    job.timer.unref();
  }

  /** keep-all: fetches every chunk of every version this device lacks. */
  private async keepAll(ws: string, job: { running: boolean; again: boolean; timer?: NodeJS.Timeout }): Promise<void> {
    job.timer = undefined;
    if (this.stopped || this.settings.policy(ws) !== 'keep-all') return;
    let known: boolean;
    try { known = this.docs.resolveWorkspace(ws) === ws; } catch { known = false; }
    if (!known) return;
    job.running = true;
    job.again = false;
    let retry = false;
    try {
      const missing = [...this.chunkSet(ws)].filter((h) => !this.store.has(h));
      if (missing.length > 0 && this.sources(ws).length > 0) {
        let biggest = CHUNK_SIZE;
        for (const v of this.view(ws).byId.values()) biggest = Math.max(biggest, v.chunkSize);
        const r = await this.fetch(ws, missing, (h, sealed) => this.store.write(h, sealed), biggest + CHUNK_OVERHEAD);
        this.log(`files: keep-all ${ws.slice(0, 8)}: fetched ${r.fetched} chunk(s), ${r.corrupt} corrupt`);
        // Kept here now: a relay that lacks them gets them from us.
        if (r.fetched > 0) this.schedulePush(ws, 0);
      }
    } catch (err) {
      retry = true;
      if (!this.stopped) this.log(`files: keep-all ${ws.slice(0, 8)}: ${(err as Error).message}`);
    } finally {
      job.running = false;
    }
    if (job.again) this.scheduleKeepAll(ws, KEEP_ALL_DEBOUNCE_MS);
    else if (retry) this.scheduleKeepAll(ws, KEEP_ALL_RETRY_MS);
  }

  // ---- pushing to relays ----

  /** Pushes what the connected relays of `ws` lack, after `delayMs`. */
  private schedulePush(ws: string, delayMs: number): void {
    const relays = this.opts.relays?.of(ws) ?? [];
    if (relays.length === 0) return;
    const connected = new Set(this.net.connectedPeers().map((p) => toHex(p.publicKey)));
    for (const key of relays) if (connected.has(key)) this.schedulePushTo(ws, key, delayMs);
  }

  /** `retry`: a failed push tries again (with backoff); anything else starts the count afresh. */
  private schedulePushTo(ws: string, relayKey: string, delayMs: number, retry = false): void {
    if (this.stopped) return;
    const k = `${ws}/${relayKey}`;
    let j = this.pushJobs.get(k);
    if (!j) { j = { running: false, again: false, failures: 0 }; this.pushJobs.set(k, j); }
    if (j.running) { j.again = true; return; }
    if (j.timer) return; // one is due already (perhaps a retry with backoff)
    if (!retry) j.failures = 0;
    const job = j;
    job.timer = setTimeout(() => { job.timer = undefined; void this.pushTo(ws, relayKey, job); }, delayMs);
    job.timer.unref();
  }

  /** One push to one relay: the chunks listed in the manifest that we hold and it is not known to hold. */
  private async pushTo(ws: string, relayKey: string, job: PushJob): Promise<void> {
    if (this.stopped) return;
    const peer = this.net.connectedPeers().find((p) => toHex(p.publicKey) === relayKey);
    if (!peer || !(this.opts.relays?.of(ws) ?? []).includes(relayKey)) return; // the next connection brings us back
    let known: boolean;
    try { known = this.docs.resolveWorkspace(ws) === ws; } catch { known = false; }
    if (!known) return;
    const k = `${ws}/${relayKey}`;
    let confirmed = this.atRelay.get(k);
    if (!confirmed) { confirmed = new Set(); this.atRelay.set(k, confirmed); }
    const at = confirmed;
    const hashes = [...this.chunkSet(ws)].filter((h) => !at.has(h) && this.store.has(h));
    if (hashes.length === 0) return;
    job.running = true;
    job.again = false;
    let retryMs: number | undefined;
    const who = relayKey.slice(0, 8);
    try {
      const r = await pushChunks(hashes, {
        workspace: fromHex(ws),
        open: async () => (await this.net.openStream(peer.peerId, CHUNKS_PUSH_PROTOCOL)).stream,
        read: (h, reserve, alloc) => this.store.readSync(h, reserve, alloc),
        confirmed: (h) => { at.add(h); },
        signal: this.aborter.signal,
      });
      job.failures = 0;
      this.counters.chunksPushed += r.pushed;
      this.counters.bytesPushed += r.bytes;
      if (r.pushed > 0 || r.skipped > 0) {
        const skipped = r.skipped > 0 ? `; ${r.skipped} it lacks are no longer on this device` : '';
        this.log(`files: pushed ${r.pushed} chunk(s) of ${ws.slice(0, 8)} (${r.bytes} bytes) to relay ${who}, which had ${r.held} already${skipped}`);
      }
    } catch (err) {
      if (!this.stopped) {
        job.failures++;
        const quota = err instanceof PushRefused && err.code === 'quota';
        if (quota) retryMs = PUSH_QUOTA_RETRY_MS;
        else if (job.failures < PUSH_MAX_FAILURES) retryMs = retryDelay(job.failures);
        const what = err instanceof PushRefused ? `refused: ${err.code}: ${err.message}` : `failed: ${(err as Error).message}`;
        // A relay that does not know the workspace or us yet is normal right after attaching or joining.
        const quiet = err instanceof PushRefused && (err.code === 'not-found' || err.code === 'forbidden') && job.failures < 3;
        if (!quiet) this.log(`files: pushing chunks of ${ws.slice(0, 8)} to relay ${who} ${what}${retryMs !== undefined ? `; trying again in ${Math.round(retryMs / 1000)} s` : ''}`);
      }
    } finally {
      job.running = false;
    }
    if (this.stopped) return;
    if (job.again) this.schedulePushTo(ws, relayKey, 0);
    else if (retryMs !== undefined) this.schedulePushTo(ws, relayKey, retryMs, true);
  }
}

function retryDelay(failures: number): number {
  return Math.min(PUSH_RETRY_MIN_MS * 2 ** Math.max(0, failures - 1), PUSH_RETRY_MAX_MS);
}

function checkJob(job: unknown): string | undefined {
  if (job === undefined) return undefined;
  if (typeof job !== 'string' || !JOB_ID.test(job)) throw new TrellisError('invalid', 'a job id is 1 to 64 letters, digits, "-" or "_"');
  return job;
}

function damagedIsInvalid(v: FileVersion): string[] {
  try { return chunksOf(v); } catch (err) { throw new TrellisError('invalid', `version ${v.version} of "${printable(v.name)}" is damaged: ${(err as Error).message}`); }
}

async function isDirectory(p: string): Promise<boolean> {
  try { return (await stat(p)).isDirectory(); } catch { return false; }
}

/** Regular files under `dir`, with their shared names under `top`; symbolic links and special files are skipped. */
async function walk(dir: string, top: string, skipped: AddResult['skipped']): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    let d;
    try { d = await opendir(abs); } catch (err) { skipped.push({ path: abs, reason: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}` }); return; }
    const entries: { name: string; kind: 'file' | 'dir' | 'other' }[] = [];
    for await (const e of d) entries.push({ name: e.name, kind: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other' });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childAbs = join(abs, e.name);
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.kind === 'other') { skipped.push({ path: childAbs, reason: 'not a regular file or folder (symbolic links are not followed)' }); continue; }
      if (e.kind === 'file' && e.name.endsWith(PART_SUFFIX)) { skipped.push({ path: childAbs, reason: 'a partial download' }); continue; }
      if (e.kind === 'dir') { await visit(childAbs, childRel); continue; }
      let name: string;
      try { name = normalizeName(`${top}/${childRel}`); } catch (err) { skipped.push({ path: childAbs, reason: (err as Error).message }); continue; }
      if (out.length >= MAX_FOLDER_FILES) throw new TrellisError('invalid', `the folder holds more than ${MAX_FOLDER_FILES} files: add its subfolders one by one`);
      const size = (await stat(childAbs)).size;
      out.push({ path: childAbs, name, size });
    }
  };
  await visit(dir, '');
  return out;
}
