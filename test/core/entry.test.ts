import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/core/bytes.ts';
import { checkChain } from '../../src/core/chain.ts';
import { cipherSpan, decodeEntry, EntryKind, ZERO_HASH } from '../../src/core/entry.ts';
import { entryCrypto, entryHash, openEntry, sealEntry } from '../../src/crypto/entry-seal.ts';
import { randomBytes, signingKeyPair } from '../../src/crypto/sodium.ts';
import { dominates, missingRanges, vectorFrom } from '../../src/core/version-vector.ts';

const signer = signingKeyPair();
const key = randomBytes(32);
const ws = randomBytes(16);

function chain(n: number, from = 1, prev: Uint8Array = ZERO_HASH) {
  const out = [];
  for (let seq = from; seq < from + n; seq++) {
    const bytes = sealEntry({ kind: EntryKind.chat, workspace: ws, author: signer.publicKey, epoch: 0, seq, clock: seq, time: 1, prevHash: prev, deps: [] }, new TextEncoder().encode(`m${seq}`), key, signer.secretKey);
    prev = entryHash(bytes);
    out.push(decodeEntry(bytes));
  }
  return out;
}

test('an entry round-trips through seal, encode, decode and open', () => {
  const dep = { author: randomBytes(32), seq: 7, hash: randomBytes(32) };
  const bytes = sealEntry({ kind: EntryKind.chat, workspace: ws, author: signer.publicKey, epoch: 3, seq: 2 ** 40, clock: 99, time: Date.now(), prevHash: randomBytes(32), deps: [dep] }, new Uint8Array([1, 2, 3]), key, signer.secretKey);
  const e = decodeEntry(bytes);
  assert.equal(e.seq, 2 ** 40);
  assert.equal(e.epoch, 3);
  assert.deepEqual(e.deps[0].seq, 7);
  assert.deepEqual([...openEntry(e, key)!], [1, 2, 3]);
  assert.equal(openEntry(e, randomBytes(32)), null, 'a wrong key opens nothing');
  const tampered = bytes.slice();
  tampered[60] ^= 1; // inside the header: the AEAD's associated data no longer matches
  assert.equal(openEntry(decodeEntry(tampered), key), null);
});

test('control entries are public (signed, not encrypted) so relays can check membership', () => {
  const plain = new TextEncoder().encode('{"type":"role"}');
  const e = decodeEntry(sealEntry({ kind: EntryKind.control, workspace: ws, author: signer.publicKey, epoch: 0, seq: 1, clock: 1, time: 1, prevHash: ZERO_HASH, deps: [] }, plain, null, signer.secretKey));
  assert.deepEqual([...e.ciphertext], [...plain]);
  assert.deepEqual([...openEntry(e, undefined)!], [...plain]);
  assert.ok(entryCrypto.verify(e.signature, e.bytes.subarray(0, e.signedLength), signer.publicKey));
});

test('any truncation or random bytes give a DecodeError, never another exception', () => {
  const bytes = chain(1)[0].bytes;
  for (let n = 0; n < bytes.length; n++) assert.throws(() => decodeEntry(bytes.subarray(0, n)), DecodeError);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
    try { decodeEntry(b); } catch (e) { assert.ok(e instanceof DecodeError, String(e)); }
  }), { numRuns: 5000 });
});

test('checkChain verifies one signature per run and accepts the valid prefix on failure', () => {
  const entries = chain(5);
  let verifies = 0;
  const counting = { hash: entryCrypto.hash, verify: (s: Uint8Array, m: Uint8Array, k: Uint8Array) => { verifies++; return entryCrypto.verify(s, m, k); } };
  const ok = checkChain(entries, { seq: 0, hash: ZERO_HASH }, counting, () => undefined);
  assert.equal(ok.accepted.length, 5);
  assert.equal(verifies, 1);
  // A bad signature on the last entry: the first four are still authentic.
  const bad = entries.map((e) => e);
  const last = bad[4].bytes.slice();
  last[last.length - 1] ^= 1;
  bad[4] = decodeEntry(last);
  const r = checkChain(bad, { seq: 0, hash: ZERO_HASH }, entryCrypto, () => undefined);
  assert.equal(r.accepted.length, 4);
  assert.equal(r.problem?.kind, 'bad-signature');
  // Continuing from a head.
  const more = chain(2, 6, entryHash(entries[4].bytes));
  assert.equal(checkChain(more, { seq: 5, hash: entryHash(entries[4].bytes) }, entryCrypto, () => undefined).accepted.length, 2);
  assert.equal(checkChain(more, { seq: 4, hash: entryHash(entries[3].bytes) }, entryCrypto, () => undefined).problem?.kind, 'gap');
});

test('version vectors: missing ranges and dominance', () => {
  const a = randomBytes(32), b = randomBytes(32);
  const local = vectorFrom([{ author: a, seq: 5, hash: ZERO_HASH }, { author: b, seq: 2, hash: ZERO_HASH }]);
  const remote = vectorFrom([{ author: a, seq: 3, hash: ZERO_HASH }]);
  assert.deepEqual(missingRanges(local, remote).map((r) => [r.fromSeq, r.toSeq]), [[4, 5], [1, 2]]);
  assert.ok(dominates(local, remote));
  assert.ok(!dominates(remote, local));
});

test('cipherSpan locates the ciphertext as decodeEntry does, and refuses what cannot be an entry', () => {
  const author = signingKeyPair();
  for (const deps of [0, 1, 3]) {
    const bytes = sealEntry({
      kind: EntryKind.chat, workspace: randomBytes(16), author: author.publicKey, epoch: 70000 + deps, seq: 5, clock: 9, time: 1,
      prevHash: randomBytes(32), deps: Array.from({ length: deps }, (_, i) => ({ author: randomBytes(32), seq: i + 1, hash: randomBytes(32) })),
    }, new TextEncoder().encode(`hello ${deps}`), randomBytes(32), author.secretKey);
    const e = decodeEntry(bytes);
    const span = cipherSpan(bytes)!;
    assert.equal(span.kind, e.kind);
    assert.equal(span.epoch, e.epoch);
    assert.equal(span.headerLength, e.headerLength);
    assert.deepEqual(Buffer.from(bytes.subarray(span.ciphertextStart, span.ciphertextStart + span.ciphertextLength)), Buffer.from(e.ciphertext));
    assert.equal(cipherSpan(bytes.subarray(0, bytes.byteLength - 1)), undefined);
    assert.equal(cipherSpan(new Uint8Array([2, ...bytes.subarray(1)])), undefined);
  }
  assert.equal(cipherSpan(new Uint8Array(10)), undefined);
});
