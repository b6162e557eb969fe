// Call signals: sealed to the workspace, signed by the sender, addressed to one member; anything
// tampered, misaddressed, stale, replayed or malformed is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { openSignal, parseSignal, sealSignal, SignalFilter, SIGNAL_TTL_MS, type CallSignal } from '../../src/workspace/call-signal.ts';
import { founder, member, outsider } from '../helpers/replicas.ts';

const CALL = 'ab'.repeat(16);
const offer: CallSignal = { call: CALL, type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };

test('a signal opens as sent, from its signer to its addressee', () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  const bob = toHex(b.signing.publicKey);
  const ice: CallSignal = { call: CALL, type: 'ice', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } };
  for (const s of [offer, ice, { call: CALL, type: 'bye' } as CallSignal]) {
    const blob = sealSignal(a.ws, a.signing, fromHex(bob), 7, s)!;
    const r = openSignal(a.ws, blob);
    assert.ok(typeof r !== 'string', String(r));
    assert.deepEqual([r.from, r.to, r.counter, r.signal], [toHex(a.signing.publicKey), bob, 7, s]);
  }
});

test('tampered, misaddressed and outsiders\' signals are refused', () => {
  const a = founder('alice');
  const b = member(a, 'bob');
  const bob = fromHex(toHex(b.signing.publicKey));
  const blob = sealSignal(a.ws, a.signing, bob, 1, offer)!;
  for (let i = 0; i < blob.byteLength; i += 37) {
    const bad = blob.slice();
    bad[i] ^= 1;
    assert.equal(typeof openSignal(a.ws, bad), 'string', `byte ${i} flipped`);
  }
  assert.match(String(openSignal(a.ws, blob.subarray(0, blob.byteLength - 1))), /malformed/);
  // To someone who is not a member.
  assert.equal(openSignal(a.ws, sealSignal(a.ws, a.signing, new Uint8Array(32).fill(9), 1, offer)!), 'call signal to a non-member');
  // From someone who holds the key but is not a member.
  const m = outsider(a, a.key);
  assert.equal(openSignal(a.ws, sealSignal(m.ws, m.signing, bob, 1, offer)!), 'call signal from a non-member');
  // For another workspace.
  const other = founder('carol');
  assert.equal(openSignal(other.ws, blob), 'call signal for another workspace');
});

test('signals are checked field by field', () => {
  assert.deepEqual(parseSignal(offer), offer);
  const cases: [unknown, RegExp][] = [
    [null, /an object/],
    [{ ...offer, call: 'AB'.repeat(16) }, /call is 32 lowercase hex/],
    [{ ...offer, type: 'ring' }, /type is one of offer, answer, ice, bye/],
    [{ call: CALL, type: 'offer' }, /carries sdp/],
    [{ ...offer, sdp: 'x'.repeat(24_001) }, /carries sdp/],
    [{ call: CALL, type: 'bye', sdp: 'x' }, /a bye carries no sdp/],
    [{ call: CALL, type: 'ice' }, /carries a candidate/],
    [{ call: CALL, type: 'ice', candidate: { candidate: 1 } }, /candidate.candidate/],
    [{ call: CALL, type: 'ice', candidate: { candidate: '', sdpMLineIndex: -1 } }, /sdpMLineIndex/],
    [{ ...offer, extra: 1 }, /unknown signal field extra/],
  ];
  for (const [input, why] of cases) assert.match(String(parseSignal(input)), why, JSON.stringify(input)?.slice(0, 80));
});

test('the filter lets a signal through once, and never a stale one', () => {
  const f = new SignalFilter(3);
  const now = 1_000_000_000;
  assert.equal(f.accept({ from: 'a', counter: 1, time: now }, now), true);
  assert.equal(f.accept({ from: 'a', counter: 1, time: now }, now + 10), false, 'seen before (came by another path)');
  assert.equal(f.accept({ from: 'b', counter: 1, time: now }, now), true);
  assert.equal(f.accept({ from: 'a', counter: 2, time: now - SIGNAL_TTL_MS - 1 }, now), false, 'stale');
  assert.equal(f.accept({ from: 'a', counter: 3, time: now + SIGNAL_TTL_MS + 1 }, now), false, 'from the future');
  assert.equal(f.accept({ from: 'c', counter: 1, time: now }, now), true);
  // Full: nothing old enough to forget, so a flood is dropped rather than replays let in.
  assert.equal(f.accept({ from: 'd', counter: 1, time: now }, now), false);
  // Later, what is long past is forgotten and room is made.
  const later = now + 2 * SIGNAL_TTL_MS + 1;
  assert.equal(f.accept({ from: 'd', counter: 2, time: later }, later), true);
});

test('one member flooding signals is cut off; the others still get through', () => {
  const f = new SignalFilter(10_000, 5);
  const now = 2_000_000_000;
  for (let i = 1; i <= 5; i++) assert.equal(f.accept({ from: 'noisy', counter: i, time: now }, now), true);
  assert.equal(f.accept({ from: 'noisy', counter: 6, time: now }, now), false, 'beyond the member\'s share');
  assert.equal(f.accept({ from: 'quiet', counter: 1, time: now }, now), true, 'another member is not affected');
  // Once the window has passed, the noisy member may signal again.
  const later = now + SIGNAL_TTL_MS + 1;
  assert.equal(f.accept({ from: 'noisy', counter: 7, time: later }, later), true);
});
