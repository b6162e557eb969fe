// Discussion over DocAccess: topics, threaded replies, reactions that survive concurrent adds,
// unread counts per member, and read state that only its owner writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listTopics, markRead, newTopic, react, replyTo, showTopic } from '../../src/tools/discussion/discussion-tool.ts';
import { createTool } from '../../src/tools/registry/tool-types.ts';
import { memoryWorkspace, sameState, sync, WS } from './memory-access.ts';

const team = () => {
  const [alice, bob, carol] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'participant' }, { name: 'carol', role: 'guest' });
  const board = createTool(alice, WS, 'discussion', 'Forum').id;
  sync(alice, bob, carol);
  return { alice, bob, carol, board };
};

test('topics with threaded replies and unread counts per member', () => {
  const { alice, bob, carol, board } = team();
  const topic = newTopic(alice, WS, board, 'Release plan', 'When do we ship?');
  assert.deepEqual([topic.title, topic.posts, topic.unread, topic.replies[0].text, topic.replies[0].parent], ['Release plan', 1, 0, 'When do we ship?', '']);
  sync(alice, bob, carol);
  assert.deepEqual(listTopics(bob, WS, board).map((t) => [t.title, t.posts, t.unread]), [['Release plan', 1, 1]]);
  const r1 = replyTo(bob, WS, board, topic.id, 'Friday.');
  const r2 = replyTo(bob, WS, board, topic.id.slice(0, 4), 'Or Monday.', r1.id.slice(0, 6));
  assert.equal(r2.parent, r1.id);
  markRead(bob, WS, board, topic.id);
  assert.equal(listTopics(bob, WS, board)[0].unread, 0);
  sync(alice, bob, carol);
  assert.equal(listTopics(alice, WS, board)[0].unread, 2, 'alice has two unread replies from bob');
  assert.equal(listTopics(carol, WS, board)[0].unread, 3);
  markRead(alice, WS, board, topic.id);
  replyTo(bob, WS, board, topic.id, 'Decided: Friday.');
  sync(alice, bob);
  assert.equal(listTopics(alice, WS, board)[0].unread, 1);
  assert.deepEqual(showTopic(alice, WS, board, topic.id).replies.map((r) => [r.authorName, r.text, r.parent === r1.id]), [
    ['alice', 'When do we ship?', false], ['bob', 'Friday.', false], ['bob', 'Or Monday.', true], ['bob', 'Decided: Friday.', false],
  ]);
  // Read state is per member and each member writes only their own.
  const read = alice.doc(WS, board).getMap('read');
  assert.deepEqual([...read.keys()].sort(), [alice.keyHex, bob.keyHex].sort());
  // Guests read but do not post, react or keep read state in the document.
  assert.throws(() => replyTo(carol, WS, board, topic.id, 'me too'), { code: 'forbidden' });
  assert.throws(() => markRead(carol, WS, board, topic.id), { code: 'forbidden' });
  assert.throws(() => replyTo(bob, WS, board, topic.id, 'x', 'ffffffffffffffff'), { code: 'not-found', message: /no reply/ });
  assert.throws(() => newTopic(bob, WS, board, '', 'x'), { code: 'invalid' });
});

test('reactions: two members reacting at once with the same emoji both count; removing takes one back', () => {
  const { alice, bob, board } = team();
  const topic = newTopic(alice, WS, board, 'Lunch?', 'Pizza at noon');
  sync(alice, bob);
  const first = topic.replies[0].id;
  react(alice, WS, board, topic.id, first, '👍');
  react(bob, WS, board, topic.id, first, '👍');
  react(bob, WS, board, topic.id, first, '🍕');
  sync(alice, bob);
  const reactions = showTopic(alice, WS, board, topic.id).replies[0].reactions;
  assert.deepEqual(reactions, { '👍': [alice.keyHex, bob.keyHex].sort(), '🍕': [bob.keyHex] });
  assert.ok(sameState(alice.doc(WS, board), bob.doc(WS, board)));
  react(bob, WS, board, topic.id, first, '👍', true);
  assert.deepEqual(showTopic(bob, WS, board, topic.id).replies[0].reactions['👍'], [alice.keyHex]);
  assert.throws(() => react(bob, WS, board, topic.id, first, 'two words'), { code: 'invalid', message: /one emoji/ });
  assert.throws(() => react(bob, WS, board, topic.id, 'abcd', '👍'), { code: 'not-found' });
});
