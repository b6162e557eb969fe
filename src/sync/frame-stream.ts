// Splits a ByteStream into frames and writes frames to it. Enforces the frame size limit before
// buffering, so a peer announcing a huge frame cannot make us allocate it.
import { DecodeError } from '../core/bytes.ts';
import type { ByteStream } from '../core/byte-stream.ts';
import { decodeFrame, encodeFrame, type Frame, MAX_FRAME_BYTES } from './frames.ts';

export class FrameStream {
  readonly stream: ByteStream;
  bytesIn = 0;
  bytesOut = 0;
  constructor(stream: ByteStream) { this.stream = stream; }

  async send(f: Frame): Promise<void> {
    const bytes = encodeFrame(f);
    this.bytesOut += bytes.byteLength;
    await this.stream.write(bytes);
  }

  /** Yields decoded frames; throws DecodeError on a malformed or oversized frame. */
  async *frames(): AsyncGenerator<Frame> {
    // Chunks are kept in a list and joined only once a whole frame is there: no quadratic copying.
    const chunks: Uint8Array[] = [];
    let buffered = 0;
    const take = (n: number): Uint8Array => {
      // A Buffer (filled entirely below), so libsodium and SQLite take it without wrapping it again.
      const out = Buffer.allocUnsafeSlow(n);
      let o = 0;
      while (o < n) {
        const c = chunks[0];
        const k = Math.min(c.byteLength, n - o);
        out.set(c.subarray(0, k), o);
        o += k;
        if (k === c.byteLength) chunks.shift(); else chunks[0] = c.subarray(k);
      }
      buffered -= n;
      return out;
    };
    let need = -1;
    for await (const chunk of this.stream) {
      this.bytesIn += chunk.byteLength;
      if (chunk.byteLength === 0) continue;
      chunks.push(chunk);
      buffered += chunk.byteLength;
      while (true) {
        if (need < 0) {
          if (buffered < 4) break;
          need = new DataView(take(4).buffer).getUint32(0);
          if (need > MAX_FRAME_BYTES) throw new DecodeError(`frame of ${need} bytes exceeds the limit`);
          if (need === 0) throw new DecodeError('empty frame');
        }
        if (buffered < need) break;
        const body = take(need);
        need = -1;
        yield decodeFrame(body);
      }
    }
    if (buffered > 0 || need >= 0) throw new DecodeError('stream ended inside a frame');
  }
}
