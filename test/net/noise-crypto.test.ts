// Trellis's Noise cipher (libsodium, fewer allocations, decryption in place) must be exactly
// ChaCha20-Poly1305 as the stock @chainsafe/libp2p-noise does it: the same bytes out, each side
// opening the other's messages, tampering refused; and a Trellis node and a stock libp2p node on
// 127.0.0.1 must carry a large stream both ways intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { Uint8ArrayList } from 'uint8arraylist';
import { signingKeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode } from '../../src/net/libp2p-node.ts';
import { noiseCrypto, whenEncrypted } from '../../src/net/noise-crypto.ts';
import { toByteStream } from '../../src/net/stream-adapter.ts';

const bytesOf = (x: Uint8Array | Uint8ArrayList): Uint8Array => (x instanceof Uint8Array ? x : x.subarray());

test('noise cipher: byte-identical to the stock one, opens its messages, in place when asked, refuses tampering', () => {
  for (const size of [0, 1, 15, 16, 1199, 1200, 4096, 65519]) {
    const k = randomBytes(32);
    const nonce = randomBytes(12);
    const ad = randomBytes(size % 3 === 0 ? 32 : 0);
    const plain = randomBytes(size);
    const ours = bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k));
    const stock = bytesOf(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k));
    assert.equal(Buffer.compare(ours, stock), 0, `ciphertext of ${size} bytes`);
    // A list of buffers (as in handshakes) encrypts the same.
    const list = new Uint8ArrayList(plain.subarray(0, size >> 1), plain.subarray(size >> 1));
    assert.equal(Buffer.compare(bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, k)), stock), 0);
    // Decrypt into a copy, then in place: the plaintext lands where the ciphertext was.
    assert.equal(Buffer.compare(bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(Buffer.from(stock), nonce, ad, k)), plain), 0);
    const buf = Buffer.from(stock);
    const out = bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(buf, nonce, ad, k, buf.subarray(0, size)));
    assert.equal(Buffer.compare(out, plain), 0);
    assert.equal(out.buffer, buf.buffer, 'decrypted in place');
    assert.equal(Buffer.compare(buf.subarray(0, size), plain), 0);
    assert.equal(Buffer.compare(bytesOf(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k)), plain), 0);
    // A message spanning socket reads: a list, with Noise's contiguous copy of it as dst, used as is.
    const split = (): Uint8ArrayList => new Uint8ArrayList(Buffer.from(stock.subarray(0, size >> 2)), Buffer.from(stock.subarray(size >> 2)));
    const spanning = split();
    const copy = spanning.subarray(0, size);
    const fromList = bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(spanning, nonce, ad, k, copy));
    assert.equal(Buffer.compare(fromList, plain), 0);
    assert.equal(fromList.buffer, copy.buffer, 'decrypted in the bytes Noise gave as dst');
    // A dst that does not hold the ciphertext is not trusted: the result is still right.
    const garbage = new Uint8Array(size).fill(0x5a);
    assert.equal(Buffer.compare(bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(split(), nonce, ad, k, garbage)), plain), 0);
    // Any flipped bit, a wrong nonce or wrong associated data: refused, and nothing written.
    const bad = Buffer.from(stock);
    bad[Math.floor(Math.random() * bad.byteLength)] ^= 1 << (size % 8);
    assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(bad, nonce, ad, k, bad.subarray(0, size)), /Invalid chacha20poly1305 decryption/);
    assert.ok(bad.subarray(0, size).every((b) => b === 0), 'a refused message yields no plaintext (libsodium zeroes the output)');
    assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(Buffer.from(stock), randomBytes(12), ad, k), /Invalid/);
    assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(Buffer.from(stock), nonce, Buffer.concat([ad, Buffer.from([1])]), k), /Invalid/);
  }
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(randomBytes(15), randomBytes(12), new Uint8Array(0), randomBytes(32)), /Invalid/);
});

test('noise cipher: a Trellis node and a stock libp2p node carry 16 MiB each way intact', { timeout: 60_000 }, async (t) => {
  const PROTOCOL = '/trellis-test/echo-hash/1.0.0';
  const ours = await createNetNode({ signingSecretKey: signingKeyPair().secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  const stock = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
  t.after(async () => { await Promise.allSettled([ours.stop(), stock.stop()]); });
  // Our side echoes every byte back.
  await ours.handle(PROTOCOL, (stream) => {
    void (async () => {
      for await (const chunk of stream) await stream.write(chunk);
      await stream.close();
    })().catch(() => stream.abort());
  });
  const raw = await stock.dialProtocol(multiaddr(ours.addrs()[0]), PROTOCOL);
  const stream = toByteStream(raw);
  const TOTAL = 16 * 1024 * 1024;
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let received = 0;
  const reading = (async () => { for await (const c of stream) { got.update(c); received += c.byteLength; } })();
  for (let n = 0; n < TOTAL;) {
    const piece = randomBytes(Math.min(TOTAL - n, 1 + Math.floor(Math.random() * 200_000)));
    sent.update(piece);
    n += piece.byteLength;
    await stream.write(piece);
  }
  await stream.close();
  await reading;
  assert.equal(received, TOTAL);
  assert.equal(got.digest('hex'), sent.digest('hex'));
});

test('noise cipher: a watched buffer is released once all its bytes are encrypted, not before', () => {
  const k = randomBytes(32);
  const nonce = randomBytes(12);
  const buf = new Uint8Array(100);
  let released = 0;
  whenEncrypted(buf, () => { released++; });
  noiseCrypto.chaCha20Poly1305Encrypt(new Uint8ArrayList(randomBytes(12), buf.subarray(0, 60)), nonce, new Uint8Array(0), k);
  assert.equal(released, 0, '60 of 100 bytes encrypted');
  noiseCrypto.chaCha20Poly1305Encrypt(new Uint8ArrayList(buf.subarray(60, 100), randomBytes(5)), nonce, new Uint8Array(0), k);
  assert.equal(released, 1);
  noiseCrypto.chaCha20Poly1305Encrypt(buf, nonce, new Uint8Array(0), k);
  assert.equal(released, 1, 'once');
  // Watched twice before its bytes went: never released (so never reused).
  const twice = new Uint8Array(10);
  whenEncrypted(twice, () => { released++; });
  whenEncrypted(twice, () => { released++; });
  noiseCrypto.chaCha20Poly1305Encrypt(twice, nonce, new Uint8Array(0), k);
  assert.equal(released, 1);
});

test('stream write with release: buffers reused at release never change what the other side gets', { timeout: 60_000 }, async (t) => {
  const PROTOCOL = '/trellis-test/release/1.0.0';
  const node = () => createNetNode({ signingSecretKey: signingKeyPair().secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: () => {} });
  const [a, b] = await Promise.all([node(), node()]);
  t.after(async () => { await Promise.allSettled([a.stop(), b.stop()]); });
  const got = createHash('sha256');
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  await b.handle(PROTOCOL, (stream) => {
    void (async () => { for await (const c of stream) { got.update(c); received += c.byteLength; } done(); })();
  });
  const { stream } = await a.openStream(b.addrs()[0], PROTOCOL);
  // Four buffers of 300 KiB go round: each is refilled with new bytes as soon as it is released. A
  // release that came before Noise had copied all of it would change bytes still to be sent.
  const SIZE = 300 * 1024;
  const free: Uint8Array[] = Array.from({ length: 4 }, () => new Uint8Array(SIZE));
  const sent = createHash('sha256');
  let writes = 0;
  let releases = 0;
  let waiting: (() => void) | undefined;
  for (let i = 0; i < 64; i++) {
    while (free.length === 0) await new Promise<void>((resolve) => { waiting = resolve; });
    const buf = free.pop()!;
    buf.set(randomBytes(SIZE));
    sent.update(buf);
    writes++;
    await stream.write(buf, () => { releases++; buf.fill(0xee); free.push(buf); waiting?.(); waiting = undefined; });
  }
  await stream.close();
  await finished;
  assert.equal(received, 64 * SIZE);
  assert.equal(got.digest('hex'), sent.digest('hex'));
  assert.equal(releases, writes, 'every buffer came back');
});
