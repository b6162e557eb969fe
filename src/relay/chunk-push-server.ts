// The receiving side of /trellis/chunks-push/1.0.0 (docs/PROTOCOL.md §10): a relay takes sealed file
// chunks from members of a workspace it serves. It cannot read them; what it checks is who sends
// (a current member, asked again on every frame), that each chunk's SHA-256 is the hash it is
// stored under, its size (the frame limit), and the workspace's quota. Up to MAX_PENDING chunks
// are written at once (concurrent syncs share disk commits); beyond that the server stops reading,
// which holds the sender back. Answers go out in the order of the frames they answer.
import { DecodeError, toHex } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { isDiskFull } from '../core/io-errors.ts';
import { sha256Hex } from '../crypto/stream-seal.ts';
import { ChunkFrameType, CHUNKS_VERSION, encodeChunkFrame, type ChunkFrame } from '../tools/files/chunk-frames.ts';
import { readChunkFrames } from '../tools/files/frame-reader.ts';

export interface PushServerContext {
  /** True while this relay serves the workspace (hex id). */
  serves(wsHex: string): boolean;
  /** True if `keyHex` is a member of the workspace now, in the relay's replica. */
  isMember(wsHex: string, keyHex: string): boolean;
  /** True if the relay holds the chunk for that workspace. */
  has(wsHex: string, hashHex: string): boolean;
  /**
   * Stores a chunk whose hash was checked; resolves once it is durable. Must refuse (throw
   * PushRefusal, synchronously or in the promise) a chunk beyond the quota.
   */
  put(wsHex: string, hashHex: string, sealed: Uint8Array): Promise<void>;
  log: (line: string) => void;
}

/** A refusal the sender is told about in an ERROR frame. */
export class PushRefusal extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Chunks being written at once per stream; also the most a stream holds in memory. */
const MAX_PENDING = 8;
const HELLO_TIMEOUT_MS = 10_000;

/** Serves one push stream until the sender closes it or breaks a rule. Never throws. */
export async function servePush(stream: ByteStream, remoteKeyHex: string, ctx: PushServerContext): Promise<void> {
  const frames = readChunkFrames(stream);
  const who = remoteKeyHex.slice(0, 8);
  // Answers, in the order of the frames they answer; a PUT's settles once its chunk is stored.
  const queue: Promise<Uint8Array>[] = [];
  let wakeSender: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  let reading = true;
  let halted = false;
  const failed = Promise.withResolvers<never>();
  failed.promise.catch(() => undefined);
  let graceful = true;
  let ws = '';
  let stored = 0;

  // Answers go out as soon as they settle, while the reader takes the next frames.
  const send = async (): Promise<void> => {
    for (;;) {
      if (halted) return;
      if (queue.length === 0) {
        if (!reading) return;
        await new Promise<void>((r) => { wakeSender = r; });
        wakeSender = undefined;
        continue;
      }
      const frame = await queue[0];
      if (halted) return;
      await stream.write(frame);
      queue.shift();
      wakeReader?.();
    }
  };

  const answerFor = (f: ChunkFrame): Promise<Uint8Array> => {
    if (f.type === ChunkFrameType.have) {
      return Promise.resolve(encodeChunkFrame({ type: ChunkFrameType.held, flags: f.hashes.map((h) => ctx.has(ws, toHex(h))) }));
    }
    if (f.type !== ChunkFrameType.put) throw new PushRefusal('protocol', `expected HAVE or PUT, got frame type ${f.type}`);
    const h = toHex(f.hash);
    if (sha256Hex(f.data) !== h) throw new PushRefusal('invalid', 'a chunk does not match the SHA-256 it was sent under; nothing of it was stored');
    const answer = encodeChunkFrame({ type: ChunkFrameType.stored, hash: f.hash });
    if (ctx.has(ws, h)) return Promise.resolve(answer);
    // put() checks the quota before its first await, so a refusal takes its place among the answers.
    let put: Promise<void>;
    try { put = ctx.put(ws, h, f.data); } catch (err) { put = Promise.reject(err); }
    return put.then(() => { stored++; return answer; }, (err: unknown) => { throw err instanceof PushRefusal ? err : new StoreFailure(err); });
  };

  try {
    ws = await hello(frames, remoteKeyHex, ctx);
    await stream.write(encodeChunkFrame({ type: ChunkFrameType.ready }));
    const sending = send();
    sending.catch((err: unknown) => failed.reject(err));
    for (;;) {
      const r = await Promise.race([frames.next(), failed.promise]);
      if (r.done) break;
      if (!ctx.serves(ws)) throw new PushRefusal('not-found', 'this relay no longer serves that workspace');
      if (!ctx.isMember(ws, remoteKeyHex)) throw new PushRefusal('forbidden', 'not a member of this workspace (any more)');
      const answer = answerFor(r.value);
      answer.catch(() => undefined); // awaited by the sender; this only keeps it from being "unhandled"
      queue.push(answer);
      wakeSender?.();
      // Back-pressure: with MAX_PENDING answers owed, read nothing more until one went out.
      while (queue.length >= MAX_PENDING) await Promise.race([new Promise<void>((r2) => { wakeReader = r2; }), failed.promise]);
    }
    reading = false;
    wakeSender?.();
    await sending;
  } catch (err) {
    halted = true;
    let code = 'internal';
    let message = 'the relay failed to store a chunk';
    if (err instanceof PushRefusal) { code = err.code; message = err.message; graceful = code !== 'timeout'; }
    else if (err instanceof DecodeError) { code = 'malformed'; message = err.message; }
    else if (err instanceof StoreFailure) {
      ctx.log(`relay: storing a chunk from ${who} failed: ${err.message}`);
      if (err.diskFull) { code = 'quota'; message = 'the relay\'s disk is full'; }
    }
    else { graceful = false; }
    if (graceful) {
      // Writes already under way settle first, so the member's ERROR comes after what this relay
      // holds is final (at most MAX_PENDING writes).
      await Promise.allSettled(queue);
      ctx.log(`relay: refused chunks from ${who}${ws ? ` for workspace ${ws.slice(0, 8)}` : ''}: ${code}: ${message}`);
      await stream.write(encodeChunkFrame({ type: ChunkFrameType.error, code, message })).catch(() => undefined);
    } else {
      ctx.log(`relay: chunk push stream with ${who} ended: ${(err as Error).message}`);
    }
  } finally {
    halted = true;
    wakeSender?.();
    // After a failure that is not graceful, writes still under way finish on their own (their
    // chunks are kept); nobody waits for them.
    if (graceful) await stream.close().catch(() => stream.abort());
    else stream.abort();
    void frames.return(undefined).catch(() => undefined);
    if (stored > 0) ctx.log(`relay: stored ${stored} chunk(s) from ${who} for workspace ${ws.slice(0, 8)}`);
  }
}

async function hello(frames: AsyncGenerator<ChunkFrame>, remoteKeyHex: string, ctx: PushServerContext): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PushRefusal('timeout', `no HELLO within ${HELLO_TIMEOUT_MS / 1000} s`)), HELLO_TIMEOUT_MS);
  });
  let first: IteratorResult<ChunkFrame>;
  try { first = await Promise.race([frames.next(), timeout]); } finally { clearTimeout(timer); }
  if (first.done) throw new PushRefusal('protocol', 'the stream ended before HELLO');
  const f = first.value;
  if (f.type !== ChunkFrameType.hello) throw new PushRefusal('protocol', `expected HELLO, got frame type ${f.type}`);
  if (f.version !== CHUNKS_VERSION) throw new PushRefusal('version', `this relay speaks chunk protocol version ${CHUNKS_VERSION}, not ${f.version}`);
  const ws = toHex(f.workspace);
  if (!ctx.serves(ws)) throw new PushRefusal('not-found', 'this relay does not serve that workspace (a manager attaches it with `trellis relay add`)');
  if (!ctx.isMember(ws, remoteKeyHex)) throw new PushRefusal('forbidden', 'not a member of this workspace (as far as this relay knows)');
  return ws;
}

/** The relay's own disk failed (as opposed to the transport, or the sender breaking a rule). */
class StoreFailure extends Error {
  /** The relay's disk is full: members should wait as for a quota, not retry at once. */
  readonly diskFull: boolean;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.diskFull = isDiskFull(cause);
  }
}
