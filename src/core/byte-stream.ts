// The duplex byte stream that the sync protocol runs over. libp2p streams, TCP sockets and the
// in-memory pair used in tests all adapt to it. Pure type: no I/O here.
export interface ByteStream {
  /** Incoming bytes in arbitrary chunks; ends when the remote closes its side. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /** Sends bytes; resolves once the transport has taken them (back-pressure: await it). */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes our side gracefully. */
  close(): Promise<void>;
  /** Tears the stream down at once. */
  abort(reason?: Error): void;
}
