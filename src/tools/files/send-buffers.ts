// Buffers that chunks are read into to be sent (CHUNK frames of the chunk server, PUT frames of the
// pusher), reused once the transport has encrypted what they held (ByteStream.write's release): a
// fresh buffer per chunk cost the sender as much CPU in page faults (first touches of new memory) as
// reading the chunk. One pool per process, shared by every stream; each buffer is big enough for
// the largest frame, which costs memory only for the part a chunk touched.
import { BufferPool } from './buffer-pool.ts';
import { CHUNK_HEADER_BYTES, MAX_SEALED_CHUNK } from './chunk-frames.ts';

export const sendBuffers = new BufferPool(CHUNK_HEADER_BYTES + MAX_SEALED_CHUNK, 8);
