// Splits a ByteStream into chunk-protocol frames. The length limit is checked before anything is
// buffered, so a peer announcing a huge frame cannot make us allocate it; a frame is copied once,
// from the transport's pieces into its own buffer. Also the timeout the clients of both chunk
// protocols (fetcher, pusher) put on each answer they wait for.
import { DecodeError } from '../../core/bytes.ts';
import type { ByteStream } from '../../core/byte-stream.ts';
import { type ChunkFrame, decodeChunkFrame, MAX_CHUNK_FRAME } from './chunk-frames.ts';

/** Frames at least this large are assembled in buffers from `alloc` (chunks); smaller ones in fresh ones. */
const POOLED_FRAME_BYTES = 64 * 1024;

/**
 * Yields decoded frames; throws DecodeError on a malformed, oversized or truncated frame. Large
 * frames are assembled in buffers from `alloc` when given, which the caller may then reuse.
 */
export async function* readChunkFrames(stream: ByteStream, maxFrame = MAX_CHUNK_FRAME, alloc?: (n: number) => Uint8Array): AsyncGenerator<ChunkFrame> {
  const pieces: Uint8Array[] = [];
  let head = 0; // index of the first unread piece
  let offset = 0; // read position inside pieces[head]
  let buffered = 0;

  const take = (n: number): Uint8Array => {
    const first = pieces[head];
    // The common small case (a header, a short frame inside one piece) needs no copy.
    if (first.byteLength - offset >= n) {
      const out = first.subarray(offset, offset + n);
      offset += n;
      if (offset === first.byteLength) { pieces[head++] = EMPTY; offset = 0; }
      buffered -= n;
      return out;
    }
    const out = alloc !== undefined && n >= POOLED_FRAME_BYTES ? alloc(n) : new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = pieces[head];
      const k = Math.min(c.byteLength - offset, n - o);
      out.set(c.subarray(offset, offset + k), o);
      o += k;
      offset += k;
      if (offset === c.byteLength) { pieces[head++] = EMPTY; offset = 0; }
    }
    buffered -= n;
    return out;
  };

  let need = -1;
  for await (const piece of stream) {
    if (piece.byteLength === 0) continue;
    pieces.push(piece);
    buffered += piece.byteLength;
    while (true) {
      if (need < 0) {
        if (buffered < 4) break;
        const len = take(4);
        need = new DataView(len.buffer, len.byteOffset, 4).getUint32(0);
        if (need > maxFrame) throw new DecodeError(`frame of ${need} bytes exceeds the limit of ${maxFrame}`);
        if (need === 0) throw new DecodeError('empty frame');
      }
      if (buffered < need) break;
      const body = take(need);
      need = -1;
      yield decodeChunkFrame(body);
    }
    if (head > 64 && head * 2 > pieces.length) { pieces.splice(0, head); head = 0; }
  }
  if (buffered > 0 || need >= 0) throw new DecodeError('stream ended inside a frame');
}

const EMPTY = new Uint8Array(0);

/** `p`, or an Error(`what`) after `ms`: a remote that stops answering must not hold a transfer forever. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
