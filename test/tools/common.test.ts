// Shared checks of the tools: times, dates, item ids and texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findItemId } from '../../src/tools/common/ids.ts';
import { cleanText } from '../../src/tools/common/text.ts';
import { canonicalTime, checkDate, parseTime } from '../../src/tools/common/time.ts';

test('times: ISO 8601 with a zone, to the millisecond; stored as UTC seconds', () => {
  assert.equal(parseTime('t', '2026-05-04T14:00Z'), Date.UTC(2026, 4, 4, 14));
  assert.equal(parseTime('t', '2026-05-04T16:00:30.250+02:00'), Date.UTC(2026, 4, 4, 14, 0, 30, 250));
  assert.equal(parseTime('t', '2026-05-04T09:30-0430'), Date.UTC(2026, 4, 4, 14, 0));
  assert.equal(canonicalTime('t', '2026-05-04T16:00:30.999+02:00'), '2026-05-04T14:00:30Z');
  for (const bad of ['2026-05-04', '2026-05-04T14:00', '2026-02-30T10:00Z', '2026-05-04T24:00Z', '2026-05-04T10:00+25:00', 'now', '']) {
    assert.throws(() => parseTime('the start', bad), { code: 'invalid', message: /the start .* is not a time/ }, bad);
  }
});

test('dates exist or are refused', () => {
  assert.equal(checkDate('d', '2028-02-29'), '2028-02-29');
  for (const bad of ['2026-02-29', '2026-13-01', '2026-5-4', '04.05.2026']) assert.throws(() => checkDate('the due date', bad), { code: 'invalid' }, bad);
});

test('item ids: whole or a unique prefix of at least 4 hex characters', () => {
  const ids = ['0123456789abcdef', '0123ffffffffffff', 'abcdef0000000000'];
  assert.equal(findItemId(ids, 'ABCD', 'task', 'x'), 'abcdef0000000000');
  assert.equal(findItemId(ids, '0123456789abcdef', 'task', 'x'), '0123456789abcdef');
  assert.throws(() => findItemId(ids, '0123', 'task', 'x'), { code: 'invalid', message: /2 tasks start with "0123"/ });
  assert.throws(() => findItemId(ids, '012', 'task', 'x'), { code: 'invalid', message: /is not a task id/ });
  assert.throws(() => findItemId(ids, '../x', 'task', 'x'), { code: 'invalid' });
  assert.throws(() => findItemId(ids, 'eeee', 'task', 'x'), { code: 'not-found' });
});

test('texts: trimmed one-liners, multiline with newlines normalised, no control characters', () => {
  assert.equal(cleanText('t', '  a b  ', { max: 10 }), 'a b');
  assert.equal(cleanText('t', 'a\r\nb\rc\td', { max: 10, multiline: true }), 'a\nb\nc\td');
  assert.throws(() => cleanText('t', 'a\u202eb', { max: 10 }), { message: /control characters/ });
  assert.throws(() => cleanText('t', 'a\u0007', { max: 10, multiline: true }), { message: /control characters/ });
  assert.equal(cleanText('t', '', { max: 10, optional: true }), '');
  assert.throws(() => cleanText('t', 5, { max: 10 }), { message: /must be a text/ });
});
