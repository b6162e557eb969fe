// The duplex byte stream that the sync protocol runs over. libp2p streams, TCP sockets and the
// in-memory pair used in tests all adapt to it. Pure type: no I/O here.
export interface ByteStream {
  /** Incoming bytes in arbitrary chunks; ends when the remote closes its side. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /**
   * Sends bytes; resolves once the transport has taken them (back-pressure: await it). The bytes
   * may still be referenced after that, until the transport has encoded them: `release`, when
   * given, is called once it no longer refers to them (a buffer to reuse goes back to its pool
   * then). A transport that cannot tell never calls it. With `release`, `bytes` must be the only
   * thing sent from its ArrayBuffer until then (a buffer of its own, not a slice of a shared one).
   */
  write(bytes: Uint8Array, release?: () => void): Promise<void>;
  /** Closes our side gracefully. */
  close(): Promise<void>;
  /** Tears the stream down at once. */
  abort(reason?: Error): void;
}
