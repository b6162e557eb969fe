// Verifiable history: the audit re-checks every signature, chain and dependency from scratch;
// equal histories have equal fingerprints, and any tampering is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntry, EntryKind, type Entry } from '../../src/core/entry.ts';
import { auditHistory } from '../../src/core/history-audit.ts';
import { entryCrypto } from '../../src/crypto/entry-seal.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { connect, founder, member, waitFor, type TestReplica } from '../helpers/replicas.ts';

const stored = (r: TestReplica): Entry[] => [...r.store.allEntries(r.ws.id)].map((b) => decodeEntry(b));

test('two replicas of one history have one fingerprint; a new entry changes it', async () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  for (let i = 0; i < 5; i++) a.ws.append(EntryKind.chat, encodeChat(`a${i}`));
  const link = connect(b, a); // the newcomer opens: it knows no members before its first sync
  await waitFor(() => b.store.heads(b.ws.id).length === 1 && b.chat.log(b.ws.idHex).length === 5, 5000, 'bob synced');
  b.ws.append(EntryKind.chat, encodeChat('from bob'));
  await waitFor(() => a.chat.log(a.ws.idHex).length === 6, 5000, 'alice has bob\'s message');
  const [ra, rb] = [auditHistory(a.ws.id, stored(a), entryCrypto), auditHistory(b.ws.id, stored(b), entryCrypto)];
  assert.deepEqual(ra.problems, []);
  assert.equal(ra.entries, rb.entries);
  assert.equal(ra.fingerprint, rb.fingerprint);
  assert.equal(ra.heads.length, 2);
  a.ws.append(EntryKind.chat, encodeChat('one more'));
  assert.notEqual(auditHistory(a.ws.id, stored(a), entryCrypto).fingerprint, ra.fingerprint);
  link.close();
});

test('tampering is named: a forged signature, a missing entry, another workspace', () => {
  const a = founder('alice');
  for (let i = 0; i < 4; i++) a.ws.append(EntryKind.chat, encodeChat(`m${i}`));
  const log = stored(a);
  const kinds = (entries: Entry[]) => auditHistory(a.ws.id, entries, entryCrypto).problems.map((p) => [p.kind, p.seq]);
  // A flipped byte in the last entry's ciphertext: its signature no longer matches.
  const last = log[log.length - 1];
  const forged = last.bytes.slice();
  forged[last.headerLength + 6] ^= 1;
  assert.deepEqual(kinds([...log.slice(0, -1), decodeEntry(forged)]), [['bad-signature', last.seq]]);
  // An entry left out: the next one does not follow.
  const gap = auditHistory(a.ws.id, [...log.slice(0, 2), ...log.slice(3)], entryCrypto).problems;
  assert.deepEqual(gap.map((p) => [p.kind, p.seq]), [['gap', log[3].seq]], 'one problem for the author, not one per later entry');
  assert.match(gap[0].detail, new RegExp(`expected seq ${log[2].seq} of this author; ${log.length - 4} later entr`));
  // Entries of another workspace mixed in.
  const other = founder('mallory');
  assert.deepEqual(auditHistory(a.ws.id, [...log, ...stored(other).slice(0, 1)], entryCrypto).problems.map((p) => p.kind), ['other-workspace']);
  // All good: no problem, and every author's head.
  const clean = auditHistory(a.ws.id, log, entryCrypto);
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.heads[0].seq, log.length);
});
