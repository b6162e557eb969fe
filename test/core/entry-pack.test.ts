// Packed entries (sync protocol 2): unpacking gives back exactly the entries packed, for any mix of
// authors, epochs, deps, clocks and times; a hostile packing yields entries that fail their checks;
// malformed input is a DecodeError, never a crash or a huge allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkChain } from '../../src/core/chain.ts';
import { decodeEntry, EntryKind, ZERO_HASH } from '../../src/core/entry.ts';
import { MAX_PACKED_ENTRIES, packEntries, unpackEntries } from '../../src/core/entry-pack.ts';
import { entryCrypto, entryHash, sealEntry } from '../../src/crypto/entry-seal.ts';
import { hashInto, randomBytes, signingKeyPair } from '../../src/crypto/sodium.ts';

const workspace = randomBytes(16);
const key = randomBytes(32);
const alice = signingKeyPair();
const bob = signingKeyPair();

/** A log of `n` entries of `who`, with varied epochs, deps, clock jumps and a clock that goes back in time. */
function log(who: typeof alice, n: number, startTime = 1_700_000_000_000): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev: Uint8Array = ZERO_HASH;
  let clock = 1;
  for (let i = 0; i < n; i++) {
    clock += i % 7 === 0 ? 1000 : 1;
    const time = startTime + (i % 5 === 0 ? -3000 * i : 17 * i);
    const deps = i % 11 === 3 ? [{ author: bob.publicKey, seq: 4, hash: randomBytes(32) }] : [];
    const kind = i % 13 === 0 ? EntryKind.control : EntryKind.docUpdate;
    const bytes = sealEntry({ kind, workspace, author: who.publicKey, epoch: i < n / 2 ? 0 : 3, seq: i + 1, clock, time, prevHash: prev, deps },
      kind === EntryKind.control ? new TextEncoder().encode('{"type":"x"}') : randomBytes(20 + (i % 9)), key, who.secretKey);
    prev = entryHash(bytes);
    out.push(bytes);
  }
  return out;
}

const same = (a: Uint8Array[], b: Uint8Array[]) => assert.deepEqual(a.map((x) => Buffer.from(x).toString('hex')), b.map((x) => Buffer.from(x).toString('hex')));

test('unpacking rebuilds the exact entries and their hashes, and packing saves bytes on runs', () => {
  const a = log(alice, 500);
  const b = log(bob, 40);
  // Interleaved authors (several runs), a gap in alice's log, and a lone entry.
  const batch = [...a.slice(0, 200), ...b.slice(0, 20), ...a.slice(200, 300), ...a.slice(301, 500), ...b.slice(20, 21)];
  const packed = packEntries(batch);
  const u = unpackEntries(packed, hashInto);
  same(u.entries, batch);
  for (let i = 0; i < batch.length; i++) assert.deepEqual(Buffer.from(u.hashes.subarray(i * 32, i * 32 + 32)), Buffer.from(entryHash(batch[i])));
  const plain = batch.reduce((n, e) => n + 4 + e.byteLength, 4);
  assert.ok(packed.byteLength < plain * 0.75, `packed ${packed.byteLength} bytes of ${plain}`);
  same(unpackEntries(packEntries([]), hashInto).entries, []);
});

test('a packer that lies yields entries that fail their chain or signature check', () => {
  const a = log(alice, 50);
  const packed = packEntries(a);
  const honest = unpackEntries(packed, hashInto).entries;
  const forged = packed.slice();
  // Flip one byte of the clock delta of a follower: the rebuilt entry's signature no longer holds.
  forged[4 + 4 + a[0].byteLength + 4 + 2] ^= 1;
  const rebuilt = unpackEntries(forged, hashInto).entries.map((x) => decodeEntry(x));
  const r = checkChain(rebuilt, { seq: 0, hash: ZERO_HASH }, entryCrypto, () => undefined);
  assert.equal(r.accepted.length, 1);
  assert.equal(r.problem?.kind, 'bad-signature');
  assert.equal(checkChain(honest.map((x) => decodeEntry(x)), { seq: 0, hash: ZERO_HASH }, entryCrypto, () => undefined).accepted.length, 50);
});

test('malformed packed bodies are DecodeErrors', () => {
  const packed = packEntries(log(alice, 30));
  const bad = (b: Uint8Array, why: RegExp) => assert.throws(() => unpackEntries(b, hashInto), (e: Error) => e.name === 'DecodeError' && why.test(e.message));
  bad(packed.subarray(0, packed.byteLength - 1), /truncated/);
  bad(new Uint8Array([...packed, 0]), /trailing/);
  bad(new Uint8Array([0xff, 0xff, 0xff, 0xff]), /too many runs/);
  const many = new DataView(new ArrayBuffer(8));
  many.setUint32(0, 1);
  many.setUint32(4, 0);
  bad(new Uint8Array([...new Uint8Array(many.buffer), 0, 0, 0, MAX_PACKED_ENTRIES >> 8, 0]), /whole entry/);
  many.setUint32(0, 2);
  bad(new Uint8Array([...new Uint8Array(many.buffer), 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]), /too many entries/);
  // A run whose head is too short to rebuild followers from.
  bad(new Uint8Array([0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 1]), /must start with a whole entry/);
  // Unknown flags.
  const first = packed.subarray(0, 4 + 4 + log(alice, 1)[0].byteLength);
  const flagsAt = first.byteLength + 4 + 1;
  const f = packed.slice();
  f[flagsAt] = 0x80;
  bad(f, /flags/);
});

test('20,000 mutated packed bodies: each unpacks or is a DecodeError, nothing else', () => {
  const packed = packEntries([...log(alice, 40), ...log(bob, 3)]);
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  let decodeErrors = 0;
  for (let i = 0; i < 20_000; i++) {
    const m = packed.slice(0, rnd(8) === 0 ? rnd(packed.byteLength) : packed.byteLength);
    for (let k = 0, n = 1 + rnd(4); k < n && m.byteLength > 0; k++) m[rnd(m.byteLength)] = rnd(256);
    try {
      unpackEntries(m, hashInto);
    } catch (err) {
      assert.equal((err as Error).name, 'DecodeError', (err as Error).stack);
      decodeErrors++;
    }
  }
  assert.ok(decodeErrors > 1000, `only ${decodeErrors} mutations were refused`);
});
