// Adapts a libp2p 3 Stream to the project's ByteStream, with back-pressure in both directions.
//
// libp2p 3 streams are event targets: 'message' delivers data as soon as the muxer decodes it and
// yamux grants the remote a new window right away, so a reader that merely listens never slows the
// sender down. The stream's own async iterator (an unbounded queue) and `onDrain()` (its promise is
// created once and never reset, so after the first drain it resolves at once) do not bound memory
// either. Hence this adapter keeps its own bounded read queue and pauses the stream when it fills,
// and waits for 'drain' events itself.
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import type { ByteStream } from '../core/byte-stream.ts';
import { whenEncrypted } from './noise-crypto.ts';

export interface StreamAdapterOptions {
  /** Bytes queued for a slow reader before the stream is paused (the remote then runs out of window). */
  readHighWaterMark?: number;
  /** Largest piece handed to the muxer at once, so one big write cannot hog the connection. */
  maxSendChunk?: number;
  /**
   * What the stream may buffer internally while paused. Must exceed the muxer's receive window:
   * data already granted keeps arriving after pause(), and libp2p resets a stream whose paused
   * buffer outgrows this.
   */
  pausedBufferLimit?: number;
}

const DEFAULT_READ_HIGH_WATER_MARK = 1024 * 1024;
// Pieces of up to 512 KiB: a 256 KiB file chunk frame goes to the muxer whole, a 1 MiB one in
// three pieces. Each piece becomes a yamux frame, and the receiver grants window (a frame back, a
// syscall) per frame, so 64 KiB pieces cost the receiver's busy thread four times the window
// updates (bench/files: both the raw stream and Trellis about 10% faster). Latency for other
// streams is set by the socket's buffers, which hold megabytes on a fast path, more than by this.
const DEFAULT_MAX_SEND_CHUNK = 512 * 1024;
const DEFAULT_PAUSED_BUFFER_LIMIT = 32 * 1024 * 1024;

function asError(value: unknown, fallback: string): Error {
  return value instanceof Error ? value : new Error(fallback);
}

function isFinished(stream: Stream): boolean {
  return stream.status === 'closed' || stream.status === 'aborted' || stream.status === 'reset';
}

/** Waits until the stream can take more data, or rejects once it has closed. */
function whenWritable(stream: Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (isFinished(stream)) {
      reject(new Error(`cannot write: stream is ${stream.status}`));
      return;
    }
    const cleanup = (): void => {
      stream.removeEventListener('drain', onDrain);
      stream.removeEventListener('close', onClose);
    };
    const onDrain = (): void => { cleanup(); resolve(); };
    const onClose = (evt: StreamCloseEvent): void => {
      cleanup();
      reject(asError(evt.error, 'stream closed while waiting to write'));
    };
    stream.addEventListener('drain', onDrain);
    stream.addEventListener('close', onClose);
  });
}

export function toByteStream(stream: Stream, options: StreamAdapterOptions = {}): ByteStream {
  const highWaterMark = options.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK;
  const maxSendChunk = options.maxSendChunk ?? DEFAULT_MAX_SEND_CHUNK;
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, options.pausedBufferLimit ?? DEFAULT_PAUSED_BUFFER_LIMIT);

  const queue: Uint8Array[] = [];
  let queueHead = 0;
  let queuedBytes = 0;
  let ended = false;
  let failure: Error | undefined;
  let abandoned = false; // the consumer stopped iterating; incoming data is discarded
  let iterated = false;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const tryResume = (): void => {
    if (stream.readStatus !== 'paused') return;
    try { stream.resume(); } catch { /* the readable end closed meanwhile */ }
  };

  const onMessage = (evt: StreamMessageEvent): void => {
    if (abandoned) return;
    const data = evt.data;
    // A Uint8ArrayList iterates over its underlying chunks, so nothing is copied here.
    const chunks: Iterable<Uint8Array> = data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue;
      queue.push(chunk);
      queuedBytes += chunk.byteLength;
    }
    if (queuedBytes >= highWaterMark && stream.readStatus === 'readable') {
      try { stream.pause(); } catch { /* closing: nothing more will arrive anyway */ }
    }
    notify();
  };
  const onEnd = (): void => {
    // abort() and a remote reset emit 'end' too, just before a 'close' that carries the error.
    if (stream.status !== 'aborted' && stream.status !== 'reset') ended = true;
    notify();
  };
  const onClose = (evt: StreamCloseEvent): void => {
    if (evt.error != null) failure = evt.error;
    // A graceful close while paused leaves data in the stream's buffer; 'end' follows once it is read.
    else if (stream.readableEnded) ended = true;
    notify();
  };
  stream.addEventListener('message', onMessage);
  stream.addEventListener('end', onEnd);
  stream.addEventListener('close', onClose);
  if (stream.readableEnded && stream.status !== 'aborted' && stream.status !== 'reset') ended = true;

  const take = (): Uint8Array => {
    const chunk = queue[queueHead];
    queue[queueHead++] = undefined as unknown as Uint8Array; // let it be collected
    if (queueHead === queue.length) { queue.length = 0; queueHead = 0; }
    else if (queueHead > 1024 && queueHead * 2 > queue.length) { queue.splice(0, queueHead); queueHead = 0; }
    queuedBytes -= chunk.byteLength;
    if (queuedBytes <= highWaterMark / 2) tryResume();
    return chunk;
  };

  const abandon = (): void => {
    if (abandoned) return;
    abandoned = true;
    queue.length = 0;
    queueHead = 0;
    queuedBytes = 0;
    // Resume before closing the readable end: a paused yamux stream grants no more window, so the
    // remote writer would stall forever instead of having its bytes discarded.
    tryResume();
    stream.closeRead().catch(() => { /* already closed */ });
  };

  const iterator: AsyncIterator<Uint8Array> = {
    async next(): Promise<IteratorResult<Uint8Array>> {
      for (;;) {
        if (abandoned) return { value: undefined, done: true };
        if (queueHead < queue.length) return { value: take(), done: false };
        // Everything the remote sent has been read: a failure after that is not the reader's concern.
        if (ended) return { value: undefined, done: true };
        if (failure != null) throw failure;
        tryResume();
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    },
    async return(): Promise<IteratorResult<Uint8Array>> {
      abandon();
      return { value: undefined, done: true };
    },
  };

  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      if (iterated) throw new Error('a ByteStream can be read by one consumer only');
      iterated = true;
      return iterator;
    },

    // The bytes are referenced, not copied, until Noise has encrypted them: callers must not reuse
    // the buffer after calling write, except once `release` was called (noise-crypto.ts sees the
    // bytes go by; every connection of ours encrypts with it).
    async write(bytes: Uint8Array, release?: () => void): Promise<void> {
      if (release !== undefined && bytes.byteLength > 0) whenEncrypted(bytes, release);
      for (let offset = 0; offset < bytes.byteLength; offset += maxSendChunk) {
        while (stream.writableNeedsDrain) await whenWritable(stream);
        if (stream.writeStatus !== 'writable') {
          throw asError(failure, `cannot write: stream is ${stream.writeStatus}`);
        }
        stream.send(bytes.subarray(offset, Math.min(offset + maxSendChunk, bytes.byteLength)));
      }
      // Resolve only once the muxer has room again, so a writer that awaits each write keeps at most
      // one chunk queued per stream.
      while (stream.writableNeedsDrain) await whenWritable(stream);
    },

    async close(): Promise<void> {
      await stream.close();
    },

    abort(reason?: Error): void {
      stream.abort(reason ?? new Error('stream aborted locally'));
    },
  };
}
