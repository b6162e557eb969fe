// The serving side of /trellis/chunks/1.0.0: answers a member's requests for sealed chunks.
// A chunk goes out only to a member of the workspace named in HELLO, and only if one of that
// workspace's file versions lists it, so holding a chunk of workspace A tells nothing to a member
// of workspace B. Membership is checked again on every WANT: a member removed meanwhile gets ERROR.
import { DecodeError, toHex } from '../../core/bytes.ts';
import type { ByteStream } from '../../core/byte-stream.ts';
import {
  CHUNK_HEADER_BYTES, ChunkFrameType, CHUNKS_VERSION, encodeChunkFrame, fillChunkHeader, MAX_SEALED_CHUNK, MissingReason,
  type ChunkFrame,
} from './chunk-frames.ts';
import type { ChunkStore } from './chunk-store.ts';
import { readChunkFrames } from './frame-reader.ts';
import { sendBuffers } from './send-buffers.ts';

export interface ChunkServerContext {
  /** Where the chunks are: one store, or one per workspace (a relay keeps workspaces apart). */
  store: ChunkStore | ((wsHex: string) => ChunkStore | undefined);
  /** True if this peer holds the workspace (hex id). */
  hasWorkspace(wsHex: string): boolean;
  /** True if `keyHex` is a member of the workspace now. */
  isMember(wsHex: string, keyHex: string): boolean;
  /** True if a file version of the workspace lists the chunk. */
  lists(wsHex: string, hashHex: string): boolean;
  log: (line: string) => void;
  /** Counters. */
  served(bytes: number): void;
  /** Test hook: may change a sealed chunk (in a frame) before it is sent, to play a bad server. */
  tamper?: (hashHex: string, frame: Uint8Array) => void;
}

/** A requester has this long to say HELLO. */
const HELLO_TIMEOUT_MS = 10_000;

class Refusal extends Error {
  readonly code: string;
  constructor(code: string, message: string) { super(message); this.code = code; }
}

/** Serves one stream until the requester closes it or breaks the protocol. Never throws. */
export async function serveChunks(stream: ByteStream, remoteKeyHex: string, ctx: ChunkServerContext): Promise<void> {
  const frames = readChunkFrames(stream);
  const who = remoteKeyHex.slice(0, 8);
  let graceful = true;
  try {
    const ws = await hello(frames, remoteKeyHex, ctx);
    await stream.write(encodeChunkFrame({ type: ChunkFrameType.ready }));
    for (;;) {
      const r = await frames.next();
      if (r.done) break;
      const f = r.value;
      if (f.type !== ChunkFrameType.want) throw new Refusal('protocol', `expected WANT, got frame type ${f.type}`);
      if (!ctx.isMember(ws, remoteKeyHex)) throw new Refusal('forbidden', 'not a member of this workspace (any more)');
      await answer(stream, ws, f.hashes.map(toHex), ctx);
    }
  } catch (err) {
    let code = 'internal';
    let message = 'the server failed';
    if (err instanceof Refusal) { code = err.code; message = err.message; graceful = code !== 'timeout'; }
    else if (err instanceof DecodeError) { code = 'malformed'; message = err.message; }
    else { graceful = false; }
    if (graceful) {
      ctx.log(`files: refused a chunk request from ${who}: ${code}: ${message}`);
      await stream.write(encodeChunkFrame({ type: ChunkFrameType.error, code, message })).catch(() => undefined);
    } else {
      ctx.log(`files: chunk stream with ${who} ended: ${(err as Error).message}`);
    }
  } finally {
    if (graceful) await stream.close().catch(() => stream.abort());
    else stream.abort();
    // Ends the reader too; not awaited: after a HELLO timeout it is still waiting on the stream.
    void frames.return(undefined).catch(() => undefined);
  }
}

async function hello(frames: AsyncGenerator<ChunkFrame>, remoteKeyHex: string, ctx: ChunkServerContext): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Refusal('timeout', `no HELLO within ${HELLO_TIMEOUT_MS / 1000} s`)), HELLO_TIMEOUT_MS);
  });
  let first: IteratorResult<ChunkFrame>;
  try { first = await Promise.race([frames.next(), timeout]); } finally { clearTimeout(timer); }
  if (first.done) throw new Refusal('protocol', 'the stream ended before HELLO');
  const f = first.value;
  if (f.type !== ChunkFrameType.hello) throw new Refusal('protocol', `expected HELLO, got frame type ${f.type}`);
  if (f.version !== CHUNKS_VERSION) throw new Refusal('version', `this peer speaks chunk protocol version ${CHUNKS_VERSION}, not ${f.version}`);
  const ws = toHex(f.workspace);
  if (!ctx.hasWorkspace(ws)) throw new Refusal('not-found', 'unknown workspace');
  if (!ctx.isMember(ws, remoteKeyHex)) throw new Refusal('forbidden', 'not a member of this workspace (as far as this peer knows)');
  return ws;
}

async function answer(stream: ByteStream, ws: string, hashes: string[], ctx: ChunkServerContext): Promise<void> {
  for (const h of hashes) {
    const hash = Buffer.from(h, 'hex');
    const store = typeof ctx.store === 'function' ? ctx.store(ws) : ctx.store;
    const frame = store && ctx.lists(ws, h) ? store.readSync(h, CHUNK_HEADER_BYTES, (n) => sendBuffers.take(n)) : undefined;
    const size = frame === undefined ? 0 : frame.byteLength - CHUNK_HEADER_BYTES;
    if (frame === undefined || size < 1 || size > MAX_SEALED_CHUNK) {
      if (frame !== undefined) sendBuffers.give(frame);
      const reason = ctx.lists(ws, h) ? MissingReason.notHeld : MissingReason.notInWorkspace;
      await stream.write(encodeChunkFrame({ type: ChunkFrameType.missing, hash, reason }));
      continue;
    }
    fillChunkHeader(frame, hash);
    ctx.tamper?.(h, frame);
    await stream.write(frame, () => sendBuffers.give(frame));
    ctx.served(size);
  }
}
