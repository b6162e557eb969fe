// The tools on real Peers in one process (SQLite, libp2p on loopback): changes on one peer reach
// the other; two members edit the same note, task and event while the other is offline, and after
// both are back every replica holds byte-identical Yjs state containing both members' changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { addEvent, listEvents, updateEvent } from '../../src/tools/calendar/calendar-tool.ts';
import { listTopics, newTopic, replyTo } from '../../src/tools/discussion/discussion-tool.ts';
import { noteMarkdown, writeNoteMarkdown } from '../../src/tools/notes/notes-tool.ts';
import { workspaceHistory } from '../../src/tools/registry/history.ts';
import { toolList } from '../../src/tools/registry/tool-list.ts';
import { createTool } from '../../src/tools/registry/tool-types.ts';
import { addTask, commentTask, listTasks, updateTask } from '../../src/tools/tasks/tasks-tool.ts';
import { freePort } from '../helpers/daemons.ts';
import { waitFor } from '../helpers/replicas.ts';
import { sameState } from './memory-access.ts';

interface Node { name: string; home: string; port: number; bootstrap: string[]; peer: Peer }

async function start(n: Omit<Node, 'peer'>): Promise<Node> {
  try { createIdentity(n.home, n.name); } catch { /* a restart: the identity exists */ }
  const peer = await Peer.start({ home: n.home, mdns: false, listen: [`/ip4/127.0.0.1/tcp/${n.port}`], bootstrap: n.bootstrap, log: () => {} });
  return { ...n, peer };
}

const home = (name: string) => mkdtempSync(join(tmpdir(), `trellis-tools-${name}-`));

test('tools on two peers: live sync, offline concurrent edits merge to identical state, history, time travel', { timeout: 60_000 }, async (t) => {
  let alice = await start({ name: 'alice', home: home('alice'), port: await freePort(), bootstrap: [] });
  const aliceAddr = alice.peer.status().addrs[0];
  let bob = await start({ name: 'bob', home: home('bob'), port: await freePort(), bootstrap: [aliceAddr] });
  t.after(async () => {
    await Promise.allSettled([alice.peer.stop(), bob.peer.stop()]);
    rmSync(alice.home, { recursive: true, force: true });
    rmSync(bob.home, { recursive: true, force: true });
  });
  const ws = (await alice.peer.createWorkspace('Team')).id;
  await bob.peer.join(await alice.peer.createInvite(ws, { role: 'participant' }));

  // Tools are added by the manager and listed everywhere.
  const note = createTool(alice.peer, ws, 'notes', 'Design').id;
  const list = createTool(alice.peer, ws, 'tasks', 'Todo').id;
  const cal = createTool(alice.peer, 'Team', 'calendar', 'Meetings').id;
  const board = createTool(alice.peer, ws, 'discussion', 'Forum').id;
  await waitFor(() => toolList(bob.peer, ws).length === 4, 10_000, 'the tool list at bob');
  assert.throws(() => createTool(bob.peer, ws, 'notes', 'Mine'), { code: 'forbidden' });

  // Each tool's changes on one peer appear on the other.
  writeNoteMarkdown(alice.peer, ws, note, '# Design\n\nShared *text*.\n', 'replace');
  const task = addTask(alice.peer, ws, list, { title: 'Ship', assignee: 'bob', due: '2026-06-01' });
  const event = addEvent(alice.peer, ws, cal, { title: 'Review', start: '2026-05-04T14:00Z', end: '2026-05-04T15:00Z', attendees: ['alice', 'bob'] });
  const topic = newTopic(alice.peer, ws, board, 'Naming', 'Trellis?');
  await waitFor(() => noteMarkdown(bob.peer, ws, note) === '# Design\n\nShared *text*.\n'
    && listTasks(bob.peer, ws, list)[0]?.assigneeName === 'bob'
    && listEvents(bob.peer, ws, cal)[0]?.attendeeNames.join() === 'alice,bob'
    && listTopics(bob.peer, ws, board)[0]?.unread === 1, 10_000, 'alice\'s changes at bob');
  replyTo(bob.peer, ws, board, topic.id, 'Yes!');
  commentTask(bob.peer, ws, list, task.id, 'On it.');
  await waitFor(() => listTopics(alice.peer, ws, board)[0]?.unread === 1 && listTasks(alice.peer, ws, list)[0]?.comments.length === 1, 10_000, 'bob\'s changes at alice');
  const beforeOffline = Date.now();
  await new Promise((r) => setTimeout(r, 20));

  // Bob goes offline; alice edits. Then alice goes offline and bob edits the same things.
  await bob.peer.stop();
  writeNoteMarkdown(alice.peer, ws, note, 'Alice was here.\n', 'append');
  updateTask(alice.peer, ws, list, task.id, { status: 'doing' });
  updateEvent(alice.peer, ws, cal, event.id, { place: 'Room 1' });
  await alice.peer.stop();
  bob = await start({ name: bob.name, home: bob.home, port: bob.port, bootstrap: bob.bootstrap });
  writeNoteMarkdown(bob.peer, ws, note, 'Bob was here.\n', 'append');
  updateTask(bob.peer, ws, list, task.id, { title: 'Ship it', due: '2026-06-15' });
  updateEvent(bob.peer, ws, cal, event.id, { agenda: 'Bob\'s agenda' });
  // Both back: they find each other (bob dials alice's address, alice dials bob's stored one).
  alice = await start({ name: alice.name, home: alice.home, port: alice.port, bootstrap: [] });
  const docs = [note, list, cal];
  await waitFor(() => docs.every((d) => sameState(alice.peer.doc(ws, d), bob.peer.doc(ws, d))), 20_000, 'identical documents after the offline edits');
  const md = noteMarkdown(alice.peer, ws, note);
  assert.match(md, /Alice was here\./);
  assert.match(md, /Bob was here\./);
  assert.deepEqual(listTasks(alice.peer, ws, list).map((x) => [x.title, x.status, x.due]), [['Ship it', 'doing', '2026-06-15']]);
  assert.deepEqual(listEvents(bob.peer, ws, cal).map((e) => [e.place, e.agenda]), [['Room 1', 'Bob\'s agenda']]);

  // Time travel: the note and the tasks as they were before the offline edits.
  assert.equal(noteMarkdown(alice.peer, ws, note, beforeOffline), '# Design\n\nShared *text*.\n');
  assert.deepEqual(listTasks(bob.peer, ws, list, beforeOffline).map((x) => [x.title, x.status]), [['Ship', 'todo']]);

  // History maps each change to its tool.
  const history = workspaceHistory(bob.peer, ws, 'Todo');
  assert.ok(history.length >= 4 && history.every((h) => h.tool === list && h.kind === 'doc'));
  assert.deepEqual([...new Set(history.map((h) => h.authorName))].sort(), ['alice', 'bob']);
  const all = workspaceHistory(alice.peer, ws);
  assert.ok(all.some((h) => h.kind === 'control') && all.filter((h) => h.tool === note).length >= 3);
  for (let i = 1; i < all.length; i++) assert.ok(all[i].id !== all[i - 1].id);
});
