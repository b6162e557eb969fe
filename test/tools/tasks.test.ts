// Tasks over DocAccess: add, change, comment, validation, merging concurrent edits, time travel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTool } from '../../src/tools/registry/tool-types.ts';
import { addTask, commentTask, listTasks, updateTask } from '../../src/tools/tasks/tasks-tool.ts';
import { memoryWorkspace, sameState, sync, WS } from './memory-access.ts';

const team = () => {
  const [alice, bob, carol] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'participant' }, { name: 'carol', role: 'guest' });
  const list = createTool(alice, WS, 'tasks', 'Todo').id;
  sync(alice, bob, carol);
  return { alice, bob, carol, list };
};

test('add, list, change and comment on tasks; members by name or key', () => {
  const { alice, bob, carol, list } = team();
  const t = addTask(alice, WS, list, { title: '  Write the spec ', assignee: 'bob', due: '2026-05-04' });
  assert.match(t.id, /^[0-9a-f]{16}$/);
  assert.deepEqual({ ...t, createdAt: 0 }, {
    id: t.id, title: 'Write the spec', assignee: bob.keyHex, assigneeName: 'bob', due: '2026-05-04', status: 'todo',
    createdBy: alice.keyHex, createdAt: 0, comments: [],
  });
  sync(alice, bob, carol);
  // A unique prefix of the id is enough.
  const changed = updateTask(bob, WS, list, t.id.slice(0, 6), { status: 'doing', assignee: carol.keyHex });
  assert.equal(changed.status, 'doing');
  assert.equal(changed.assigneeName, 'carol');
  const c = commentTask(bob, WS, list, t.id, 'Started.\nSecond line.');
  assert.deepEqual([c.authorName, c.text], ['bob', 'Started.\nSecond line.']);
  updateTask(bob, WS, list, t.id, { assignee: '', due: '' });
  sync(alice, bob, carol);
  const [seen] = listTasks(carol, WS, list);
  assert.deepEqual([seen.status, seen.assignee, seen.due, seen.comments.map((x) => x.text)], ['doing', '', '', ['Started.\nSecond line.']]);
  assert.throws(() => addTask(carol, WS, list, { title: 'guest task' }), { code: 'forbidden' });
});

test('bad input is refused with one clear line', () => {
  const { alice, list } = team();
  const t = addTask(alice, WS, list, { title: 'x' });
  const cases: [() => unknown, RegExp][] = [
    [() => addTask(alice, WS, list, { title: '  ' }), /the title must not be empty/],
    [() => addTask(alice, WS, list, { title: 'a\u001b[31mred' }), /control characters/],
    [() => addTask(alice, WS, list, { title: 'x'.repeat(501) }), /limit is 500/],
    [() => addTask(alice, WS, list, { title: 'x', assignee: 'mallory' }), /no member named "mallory"/],
    [() => addTask(alice, WS, list, { title: 'x', assignee: 'ff'.repeat(32) }), /no member of this workspace has the key/],
    [() => addTask(alice, WS, list, { title: 'x', due: '2026-02-30' }), /is not a date: use YYYY-MM-DD/],
    [() => addTask(alice, WS, list, { title: 'x', due: 'tomorrow' }), /is not a date/],
    [() => updateTask(alice, WS, list, t.id, { status: 'finished' }), /unknown status "finished": use todo, doing or done/],
    [() => updateTask(alice, WS, list, t.id, {}), /nothing to change/],
    [() => updateTask(alice, WS, list, 'zz', { status: 'done' }), /is not a task id/],
    [() => updateTask(alice, WS, list, 'abcdef0123456789', { status: 'done' }), /no task "abcdef0123456789"/],
    [() => commentTask(alice, WS, list, t.id, ''), /the comment must not be empty/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, (err: Error & { code?: string }) => {
      assert.ok(err.code === 'invalid' || err.code === 'not-found', `${err.code}: ${err.message}`);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  }
});

test('concurrent offline edits to one task merge: different fields both stay, comments all stay', () => {
  const { alice, bob, list } = team();
  const t = addTask(alice, WS, list, { title: 'Ship' });
  sync(alice, bob);
  updateTask(alice, WS, list, t.id, { status: 'doing', due: '2026-06-01' });
  commentTask(alice, WS, list, t.id, 'from alice');
  updateTask(bob, WS, list, t.id, { title: 'Ship it', assignee: 'bob' });
  commentTask(bob, WS, list, t.id, 'from bob');
  // Both change the same field: one value wins, the same everywhere.
  updateTask(alice, WS, list, t.id, { status: 'done' });
  updateTask(bob, WS, list, t.id, { status: 'todo' });
  sync(alice, bob);
  const [a] = listTasks(alice, WS, list);
  const [b] = listTasks(bob, WS, list);
  assert.deepEqual(a, b);
  assert.deepEqual([a.title, a.due, a.assigneeName], ['Ship it', '2026-06-01', 'bob']);
  assert.ok(['done', 'todo'].includes(a.status));
  assert.deepEqual(a.comments.map((c) => c.text).sort(), ['from alice', 'from bob']);
  assert.ok(sameState(alice.doc(WS, list), bob.doc(WS, list)), 'byte-identical Yjs state');
});

test('time travel lists the tasks as they were', () => {
  const { alice, list } = team();
  let now = 1_000;
  alice.now = () => now;
  const t = addTask(alice, WS, list, { title: 'First' });
  now = 2_000;
  updateTask(alice, WS, list, t.id, { status: 'done' });
  addTask(alice, WS, list, { title: 'Second' });
  assert.deepEqual(listTasks(alice, WS, list, 1_500).map((x) => [x.title, x.status]), [['First', 'todo']]);
  assert.deepEqual(listTasks(alice, WS, list).map((x) => [x.title, x.status]).sort(), [['First', 'done'], ['Second', 'todo']]);
});
