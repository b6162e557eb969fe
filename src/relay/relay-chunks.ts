// A relay's file chunks: the sealed chunks members pushed (/trellis/chunks-push/1.0.0), kept per
// workspace under <home>/chunks/<workspace>/xx/<sha256>, and served back to members over
// /trellis/chunks/1.0.0 so that a file can be fetched while its author is offline. The relay can
// open none of them (the file keys travel in encrypted manifest entries); it keeps them apart per
// workspace, so a member of one workspace can neither read nor probe another's chunks.
//
// Not free storage: only current members of a served workspace may push, every chunk is checked
// against its hash, and chunks count against the workspace's quota together with its entries.
// Chunks leave a part of the quota to entries (entryReserve), so that files filling a relay do
// not stop messages. Each chunk is on disk (synced, then renamed into place) before it is
// acknowledged; the directory is the index, recounted at start.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { serveChunks } from '../tools/files/chunk-server.ts';
import { ChunkStore } from '../tools/files/chunk-store.ts';
import type { BlindReplica } from './blind-replica.ts';
import { PushRefusal, servePush } from './chunk-push-server.ts';

const MiB = 1024 * 1024;
/**
 * Each chunk counts at least this much against the quota: about what a small file takes on disk,
 * and a bound on how many files a quota allows (a chunk of one byte would otherwise cost nothing).
 */
export const MIN_CHUNK_CHARGE = 4096;

/** The part of a workspace's quota that chunks leave to entries: a tenth, at most 64 MiB. */
export function entryReserve(quota: number): number {
  return Math.min(Math.floor(quota / 10), 64 * MiB);
}

const WORKSPACE_HEX = /^[0-9a-f]{32}$/;
const HASH_HEX = /^[0-9a-f]{64}$/;

export interface RelayChunksOptions {
  /** Root folder, e.g. <relay home>/chunks. */
  dir: string;
  /** The replica of a workspace this relay serves now (attached, not provisional); else undefined. */
  replica: (wsHex: string) => BlindReplica | undefined;
  log: (line: string) => void;
}

export interface RelayChunkStats {
  chunksStored: number;
  chunksServed: number;
  bytesServed: number;
}

interface Holding {
  store: ChunkStore;
  /** Bytes charged against the quota (each chunk at least MIN_CHUNK_CHARGE). */
  bytes: number;
  count: number;
  /** Chunks being written: a second push of one waits for the first. */
  writing: Map<string, Promise<void>>;
}

export class RelayChunks {
  private readonly opts: RelayChunksOptions;
  private readonly holdings = new Map<string, Holding>();
  private readonly counters: RelayChunkStats = { chunksStored: 0, chunksServed: 0, bytesServed: 0 };

  constructor(opts: RelayChunksOptions) {
    this.opts = opts;
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Counts what is held for the served workspaces, and removes the chunks of any other (detached
   * while the relay was down, or a removal cut short by a crash).
   */
  load(served: Iterable<string>): void {
    const keep = new Set(served);
    for (const name of readdirSync(this.opts.dir)) {
      const path = join(this.opts.dir, name);
      if (!WORKSPACE_HEX.test(name) || !keep.has(name)) {
        this.opts.log(`relay: removing chunks of workspace ${name.slice(0, 8)}: not served here`);
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      const h = this.holding(name);
      for (const sub of readdirSync(path)) {
        if (!/^[0-9a-f]{2}$/.test(sub)) continue;
        for (const f of readdirSync(join(path, sub))) {
          if (!HASH_HEX.test(f)) continue;
          h.bytes += charge(statSync(join(path, sub, f)).size);
          h.count++;
        }
      }
    }
  }

  private holding(ws: string): Holding {
    let h = this.holdings.get(ws);
    if (!h) {
      h = { store: new ChunkStore(join(this.opts.dir, ws)), bytes: 0, count: 0, writing: new Map() };
      this.holdings.set(ws, h);
    }
    return h;
  }

  /** Bytes of chunks held for the workspace, as charged against its quota. */
  bytes(ws: string): number { return this.holdings.get(ws)?.bytes ?? 0; }

  count(ws: string): number { return this.holdings.get(ws)?.count ?? 0; }

  has(ws: string, hashHex: string): boolean {
    return this.holdings.get(ws)?.store.has(hashHex) === true;
  }

  stats(): RelayChunkStats { return { ...this.counters }; }

  /** Forgets every chunk of a workspace the relay no longer serves. */
  drop(ws: string): void {
    if (!WORKSPACE_HEX.test(ws)) return;
    const n = this.count(ws);
    this.holdings.delete(ws);
    rmSync(join(this.opts.dir, ws), { recursive: true, force: true });
    if (n > 0) this.opts.log(`relay: dropped ${n} chunk(s) of workspace ${ws.slice(0, 8)}`);
  }

  /**
   * Stores a chunk whose SHA-256 the caller checked; resolves once it is durable. The quota is
   * checked and charged before the first await, so concurrent pushes cannot overshoot it.
   */
  put(ws: string, hashHex: string, sealed: Uint8Array): Promise<void> {
    const replica = this.opts.replica(ws);
    if (!replica) throw new PushRefusal('not-found', 'this relay no longer serves that workspace');
    const h = this.holding(ws);
    const running = h.writing.get(hashHex);
    if (running) return running;
    if (h.store.has(hashHex)) return Promise.resolve();
    const cost = charge(sealed.byteLength);
    const quota = replica.quotaBytes;
    const limit = quota - entryReserve(quota);
    const held = replica.bytesHeld + h.bytes;
    if (held + cost > limit) {
      throw new PushRefusal('quota', `over quota: this relay holds ${held} bytes for workspace ${ws.slice(0, 8)} (${h.bytes} in ${h.count} file chunk(s)); `
        + `its quota is ${quota} bytes, of which file chunks may use ${limit}; nothing already stored is lost`);
    }
    h.bytes += cost;
    h.count++;
    const p = h.store.write(hashHex, sealed, { durable: true }).then(() => {
      this.counters.chunksStored++;
    }, (err: unknown) => {
      h.bytes -= cost;
      h.count--;
      throw err;
    }).finally(() => { h.writing.delete(hashHex); });
    h.writing.set(hashHex, p);
    return p;
  }

  /** Answers a member's /trellis/chunks/1.0.0 stream from this workspace's chunks. */
  serve(stream: ByteStream, remote: { publicKey: Uint8Array }): void {
    void serveChunks(stream, toHex(remote.publicKey), {
      // One store per workspace: a chunk held for another workspace is "not held" here.
      store: (ws) => this.holdings.get(ws)?.store,
      hasWorkspace: (ws) => this.opts.replica(ws) !== undefined,
      isMember: (ws, key) => this.opts.replica(ws)?.isMember(key) === true,
      lists: () => true,
      log: this.opts.log,
      served: (bytes) => { this.counters.chunksServed++; this.counters.bytesServed += bytes; },
    });
  }

  /** Answers a member's /trellis/chunks-push/1.0.0 stream. */
  acceptPush(stream: ByteStream, remote: { publicKey: Uint8Array }): void {
    void servePush(stream, toHex(remote.publicKey), {
      serves: (ws) => this.opts.replica(ws) !== undefined,
      isMember: (ws, key) => this.opts.replica(ws)?.isMember(key) === true,
      has: (ws, h) => this.has(ws, h),
      put: (ws, h, sealed) => this.put(ws, h, sealed),
      log: this.opts.log,
    });
  }
}

function charge(size: number): number {
  return Math.max(size, MIN_CHUNK_CHARGE);
}
