// The worker-thread preparer: its hashes and plaintexts must be exactly what the inline path
// computes, and anything it cannot do is left to the caller (never a wrong answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntry, EntryKind, ZERO_HASH } from '../../src/core/entry.ts';
import { packEntries } from '../../src/core/entry-pack.ts';
import { EntryPreparer, MIN_PREPARED_BATCH, unpackInline } from '../../src/crypto/entry-preparer.ts';
import { entryHash, openEntry, sealEntry } from '../../src/crypto/entry-seal.ts';
import { randomBytes, signingKeyPair } from '../../src/crypto/sodium.ts';

const author = signingKeyPair();
const workspace = randomBytes(16);
const key0 = randomBytes(32);
const key1 = randomBytes(32);

function entries(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev: Uint8Array = ZERO_HASH;
  for (let i = 0; i < n; i++) {
    const seq = i + 1;
    // Mostly epoch 0; a control entry (public), entries of epoch 1 and of epoch 2 (no key given).
    const kind = i === 5 ? EntryKind.control : EntryKind.chat;
    const epoch = i % 10 === 7 ? 1 : i % 10 === 8 ? 2 : 0;
    const key = epoch === 1 ? key1 : epoch === 2 ? randomBytes(32) : key0;
    const plain = kind === EntryKind.control ? new TextEncoder().encode('{"type":"x"}') : new TextEncoder().encode(`message ${i}`);
    const bytes = sealEntry({ kind, workspace, author: author.publicKey, epoch, seq, clock: seq, time: 0, prevHash: prev, deps: [] }, plain, key, author.secretKey);
    prev = entryHash(bytes);
    out.push(bytes);
  }
  return out;
}

test('prepared hashes and plaintexts equal the inline ones; public entries and unknown epochs are left to the caller', async () => {
  const p = new EntryPreparer();
  try {
    // Until it is ready, batches are done inline.
    assert.equal((await p.prepare({ entries: entries(100) }, new Map([[0, key0]]))).prepared, undefined);
    await p.warm();
    const batch = entries(100);
    const wrong = new Map([[0, key0], [1, randomBytes(32)]]); // epoch 1 with a key that does not open it
    const prepared = (await p.prepare({ entries: batch }, wrong)).prepared;
    assert.ok(prepared);
    for (const bytes of batch) {
      const e = decodeEntry(bytes);
      assert.deepEqual(Buffer.from(prepared.hash(bytes)!), Buffer.from(entryHash(bytes)));
      const plain = prepared.plain(bytes);
      if (e.kind === EntryKind.control || e.epoch === 2) assert.equal(plain, undefined, `entry ${e.seq}: not tried`);
      else if (e.epoch === 1) assert.equal(plain, null, `entry ${e.seq}: the key given does not open it`);
      else assert.deepEqual(Buffer.from(plain!), Buffer.from(openEntry(e, key0)!));
    }
    // An equal copy is another object: only the very bytes sent are answered for.
    assert.equal(prepared.hash(Uint8Array.from(batch[0])), undefined);
    assert.equal(p.stats.batches, 1);
  } finally {
    await p.close();
  }
});

test('small batches and malformed entries are not prepared; after close nothing is (the caller does it inline)', async () => {
  const p = new EntryPreparer();
  await p.warm();
  assert.equal((await p.prepare({ entries: entries(MIN_PREPARED_BATCH - 1) }, new Map([[0, key0]]))).prepared, undefined);
  const batch = entries(MIN_PREPARED_BATCH);
  batch[3] = new Uint8Array([1, 2, 3]);
  const prepared = (await p.prepare({ entries: batch }, new Map([[0, key0]]))).prepared;
  assert.ok(prepared);
  assert.equal(prepared.plain(batch[3]), undefined);
  assert.deepEqual(Buffer.from(prepared.hash(batch[3])!), Buffer.from(entryHash(batch[3])));
  assert.deepEqual(Buffer.from(prepared.plain(batch[4])!), Buffer.from(openEntry(decodeEntry(batch[4]), key0)!));
  await p.close();
  assert.equal((await p.prepare({ entries: entries(MIN_PREPARED_BATCH) }, new Map([[0, key0]]))).prepared, undefined);
});

test('a packed batch is rebuilt on the worker into the very entries packed, with their hashes and plaintexts', async () => {
  const p = new EntryPreparer();
  try {
    await p.warm();
    const batch = entries(300);
    const keys = new Map([[0, key0], [1, key1]]);
    const ready = await p.prepare({ packed: packEntries(batch) }, keys);
    assert.equal(ready.entries.length, batch.length);
    for (let i = 0; i < batch.length; i++) {
      assert.deepEqual(Buffer.from(ready.entries[i]), Buffer.from(batch[i]));
      assert.deepEqual(Buffer.from(ready.prepared!.hash(ready.entries[i])!), Buffer.from(entryHash(batch[i])));
      const e = decodeEntry(batch[i]);
      const plain = ready.prepared!.plain(ready.entries[i]);
      if (e.kind === EntryKind.control || e.epoch === 2) assert.equal(plain, undefined);
      else assert.deepEqual(Buffer.from(plain!), Buffer.from(openEntry(e, e.epoch === 1 ? key1 : key0)!));
    }
    // Malformed: the same DecodeError as inline, and the worker goes on serving.
    const bad = packEntries(batch).slice(0, 5000);
    await assert.rejects(p.prepare({ packed: bad }, keys), (err: Error) => err.name === 'DecodeError');
    assert.throws(() => unpackInline(bad), (err: Error) => err.name === 'DecodeError');
    assert.equal((await p.prepare({ packed: packEntries(batch) }, keys)).entries.length, 300);
  } finally {
    await p.close();
  }
});
