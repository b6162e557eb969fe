// Two ByteStreams joined in memory, for running sync sessions without a network (tests, tools).
// Writes wait while the reader lags by more than `highWater` bytes, like a real transport.
import type { ByteStream } from '../core/byte-stream.ts';

class Pipe {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | undefined;
  private wakeReader: (() => void) | undefined;
  private wakeWriters: (() => void)[] = [];
  private readonly highWater: number;
  constructor(highWater: number) { this.highWater = highWater; }

  async push(b: Uint8Array): Promise<void> {
    if (this.ended || this.error) throw new Error('stream closed');
    this.chunks.push(b.slice());
    this.buffered += b.byteLength;
    this.wakeReader?.();
    while (this.buffered > this.highWater && !this.ended && !this.error) await new Promise<void>((r) => this.wakeWriters.push(r));
  }

  end(err?: Error): void {
    if (err) this.error = err;
    this.ended = true;
    this.wakeReader?.();
    for (const w of this.wakeWriters.splice(0)) w();
  }

  async *read(): AsyncGenerator<Uint8Array> {
    while (true) {
      if (this.chunks.length > 0) {
        const c = this.chunks.shift()!;
        this.buffered -= c.byteLength;
        if (this.buffered <= this.highWater) for (const w of this.wakeWriters.splice(0)) w();
        yield c;
        continue;
      }
      if (this.error) throw this.error;
      if (this.ended) return;
      await new Promise<void>((r) => { this.wakeReader = r; });
      this.wakeReader = undefined;
    }
  }
}

function side(inbound: Pipe, outbound: Pipe): ByteStream {
  return {
    [Symbol.asyncIterator]: () => inbound.read(),
    write: (b) => outbound.push(b),
    close: async () => outbound.end(),
    abort: (reason) => { outbound.end(reason ?? new Error('aborted')); inbound.end(reason ?? new Error('aborted')); },
  };
}

export function memoryPair(highWater = 1024 * 1024): [ByteStream, ByteStream] {
  const ab = new Pipe(highWater);
  const ba = new Pipe(highWater);
  return [side(ba, ab), side(ab, ba)];
}
