// The tools end to end: three daemons as child processes on 127.0.0.1, driven only through the
// CLI. Each tool's operations on one peer appear on the others; a calendar exported on one peer
// imports into a fresh workspace on another with every event intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, eventually, type CliResult } from '../helpers/daemons.ts';

interface Tool { id: string; type: string; name: string }
interface Task { id: string; title: string; assignee: string; assigneeName: string; due: string; status: string; comments: { text: string; authorName: string }[] }
interface CalEvent { id: string; title: string; start: string; end: string; place: string; attendees: string[]; attendeeNames: string[]; agenda: string; createdBy: string }
interface Reply { id: string; authorName: string; text: string; parent: string; reactions: Record<string, string[]> }
interface Topic { id: string; title: string; posts: number; unread: number; replies: Reply[] }
interface History { id: string; author: string; authorName: string; kind: string; tool?: string; time: number }

/** A refused command: the expected exit status and exactly one line on stderr, no stack trace. */
function refused(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^trellis: /);
  assert.match(lines[0], message);
  assert.doesNotMatch(r.stderr, /\bat .+:\d+:\d+|Error:/);
}

const ok = (r: CliResult) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };

test('three daemons: notes, tasks, calendar, discussion, history and the .ics round trip through the CLI', { timeout: 300_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  const c = await Daemon.create({ name: 'carol', bootstrap: [a.addr] });
  await Promise.all([b.start(), c.start()]);
  const files = mkdtempSync(join(tmpdir(), 'trellis-tools-files-'));
  t.after(async () => {
    await Promise.all([a, b, c].map((d) => d.destroy()));
    rmSync(files, { recursive: true, force: true });
  });

  const { id: ws } = await a.json<{ id: string }>('workspace', 'create', 'Team');
  const [codeB, codeC] = await Promise.all([
    a.json<{ code: string }>('invite', 'Team', '--role', 'participant'),
    a.json<{ code: string }>('invite', 'Team', '--role', 'participant'),
  ]);
  await Promise.all([b.json('join', codeB.code), c.json('join', codeC.code)]);

  // The tool list: managers add, everyone lists.
  const design = (await a.json<{ id: string }>('tool', 'add', 'Team', 'notes', 'Design', 'doc')).id;
  assert.match(design, /^[0-9a-f]{32}$/);
  assert.match(ok(await a.cli('tool', 'add', ws, 'tasks', 'Todo')), /^[0-9a-f]{32}\n$/);
  await Promise.all([a.json('tool', 'add', 'Team', 'calendar', 'Meetings'), a.json('tool', 'add', 'Team', 'discussion', 'Forum')]);
  const everywhere = (probe: (d: Daemon) => Promise<boolean>) => Promise.all([a, b, c].map(probe)).then((r) => r.every(Boolean));
  await eventually('four tools on every peer', () => everywhere(async (d) => (await d.json<Tool[]>('tool', 'list', 'Team')).length === 4), (x) => x);
  const tools = await c.json<Tool[]>('tool', 'list', 'Team');
  assert.deepEqual(tools.map((x) => [x.type, x.name]).sort(), [['calendar', 'Meetings'], ['discussion', 'Forum'], ['notes', 'Design doc'], ['tasks', 'Todo']]);
  assert.deepEqual(Object.keys(tools[0]).sort(), ['id', 'name', 'type']);
  const toolErrors = await Promise.all([
    b.cli('tool', 'add', 'Team', 'notes', 'Mine'), a.cli('tool', 'add', 'Team', 'sketch', 'X'), a.cli('tool', 'add', 'Team', 'notes', 'Todo'),
    b.cli('notes', 'show', 'Team', 'Nope'), b.cli('tasks', 'list', 'Team', 'Design doc'),
  ]);
  refused(toolErrors[0], 3, /only managers/);
  refused(toolErrors[1], 1, /unknown tool type "sketch"/);
  refused(toolErrors[2], 1, /named "Todo" already/);
  refused(toolErrors[3], 1, /no tool "Nope"/);
  refused(toolErrors[4], 1, /is a notes tool, not a tasks tool/);

  // Notes: import on A, show on C; append on B; time travel on C.
  const mdFile = join(files, 'design.md');
  writeFileSync(mdFile, '# Design\n\nPeers sync **entries**; see [PROTOCOL](docs/PROTOCOL.md).\n\n- signed\n- encrypted\n');
  ok(await a.cli('notes', 'import', 'Team', 'Design doc', mdFile));
  const original = readFileSync(mdFile, 'utf8');
  await eventually('the note on C', () => c.cli('notes', 'show', 'Team', design), (r) => r.stdout === original);
  const beforeAppend = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 50));
  const more = join(files, 'more.md');
  writeFileSync(more, '## Open questions\n\n1. Relays?\n');
  ok(await b.cli('notes', 'append', ws, design, more));
  await eventually('the appended note on A', () => a.json<{ markdown: string }>('notes', 'show', 'Team', 'Design doc'), (r) => r.markdown === original + '\n## Open questions\n\n1. Relays?\n');
  await eventually('time travel on C', () => c.cli('notes', 'show', 'Team', design, '--at', beforeAppend), (r) => r.stdout === original);
  const noteErrors = await Promise.all([a.cli('notes', 'import', 'Team', design, join(files, 'missing.md')), a.cli('notes', 'show', 'Team', design, '--at', 'yesterday')]);
  refused(noteErrors[0], 1, /cannot read .*missing\.md: no such file/);
  refused(noteErrors[1], 1, /is not a time/);

  // Tasks: add on B, change on C, comment on A; bad input refused.
  const taskId = ok(await b.cli('tasks', 'add', 'Team', 'Todo', 'Write', 'the', 'spec', '--assignee', 'carol', '--due', '2026-05-04')).trim();
  assert.match(taskId, /^[0-9a-f]{16}$/);
  await eventually('the task on C', () => c.json<Task[]>('tasks', 'list', 'Team', 'Todo'), (l) => l.length === 1);
  ok(await c.cli('tasks', 'set', 'Team', 'Todo', taskId.slice(0, 6), '--status', 'doing'));
  ok(await a.cli('tasks', 'comment', 'Team', 'Todo', taskId, 'Looks', 'good'));
  const tasks = await eventually('status and comment everywhere', () => Promise.all([a, b, c].map((d) => d.json<Task[]>('tasks', 'list', 'Team', 'Todo'))),
    (ls) => ls.every((l) => l[0]?.status === 'doing' && l[0].comments.length === 1));
  assert.deepEqual(tasks[0], tasks[1]);
  assert.deepEqual(tasks[1], tasks[2]);
  assert.deepEqual([tasks[0][0].title, tasks[0][0].assigneeName, tasks[0][0].due, tasks[0][0].comments[0].text, tasks[0][0].comments[0].authorName], ['Write the spec', 'carol', '2026-05-04', 'Looks good', 'alice']);
  const taskErrors = await Promise.all([
    b.cli('tasks', 'add', 'Team', 'Todo', 'x', '--due', '2026-02-30'), b.cli('tasks', 'add', 'Team', 'Todo', 'x', '--assignee', 'mallory'),
    b.cli('tasks', 'set', 'Team', 'Todo', taskId, '--status', 'finished'), b.cli('tasks', 'set', 'Team', 'Todo', 'zz', '--status', 'done'),
  ]);
  refused(taskErrors[0], 1, /is not a date/);
  refused(taskErrors[1], 1, /no member named "mallory"/);
  refused(taskErrors[2], 1, /unknown status "finished"/);
  refused(taskErrors[3], 1, /is not a task id/);

  // Discussion: C opens a topic, A replies to its first post, B reacts; unread counts per member.
  const topicId = ok(await c.cli('discussion', 'new', 'Team', 'Forum', 'Naming', 'What', 'do', 'we', 'call', 'it?')).trim();
  const seen = await eventually('the topic on A', () => a.json<Topic[]>('discussion', 'show', 'Team', 'Forum'), (l) => l.length === 1);
  assert.deepEqual([seen[0].title, seen[0].posts, seen[0].unread], ['Naming', 1, 1]);
  const first = (await a.json<Topic>('discussion', 'show', 'Team', 'Forum', topicId)).replies[0].id;
  const replyId = ok(await a.cli('discussion', 'reply', 'Team', 'Forum', topicId, 'Trellis.', '--to', first)).trim();
  await eventually('the reply on B', () => b.json<Topic>('discussion', 'show', 'Team', 'Forum', topicId), (x) => x.replies.length === 2);
  ok(await b.cli('discussion', 'react', 'Team', 'Forum', topicId, replyId, '👍'));
  ok(await a.cli('discussion', 'read', 'Team', 'Forum', topicId));
  const thread = await eventually('the reaction on C', () => c.json<Topic>('discussion', 'show', 'Team', 'Forum', topicId), (x) => x.replies[1]?.reactions['👍']?.length === 1);
  assert.deepEqual(thread.replies.map((r) => [r.authorName, r.text, r.parent]), [['carol', 'What do we call it?', ''], ['alice', 'Trellis.', first]]);
  assert.equal(thread.unread, 1, 'carol has not read alice\'s reply');
  assert.equal((await a.json<Topic[]>('discussion', 'show', 'Team', 'Forum'))[0].unread, 0, 'alice marked it read');
  assert.match(ok(await c.cli('discussion', 'show', 'Team', 'Forum', topicId)), /Naming {2}\(2 posts, 1 unread\)\n[\s\S]*What do we call it\?\n[\s\S]*alice {2}👍 1\n {6}Trellis\.\n$/);

  // Calendar: add on A with attendees; export on A; import into a fresh workspace on C.
  const eventId = ok(await a.cli('calendar', 'add', 'Team', 'Meetings', 'Kick-off', '--start', '2026-05-04T16:00+02:00', '--end', '2026-05-04T15:30Z',
    '--place', 'Room 1; 2nd floor, east', '--attendee', 'bob', '--attendee', 'carol', '--agenda', 'Status, plans;\nnext steps — 日本語')).trim();
  const events = await eventually('the event on B', () => b.json<CalEvent[]>('calendar', 'list', 'Team', 'Meetings'), (l) => l.length === 1);
  assert.deepEqual([events[0].id, events[0].start, events[0].end, events[0].attendeeNames], [eventId, '2026-05-04T14:00:00Z', '2026-05-04T15:30:00Z', ['bob', 'carol']]);
  const icsFile = join(files, 'meetings.ics');
  const [badSpan, noEnd, exported] = await Promise.all([
    a.cli('calendar', 'add', 'Team', 'Meetings', 'x', '--start', '2026-05-04T10:00Z', '--end', '2026-05-04T09:00Z'),
    a.cli('calendar', 'add', 'Team', 'Meetings', 'x', '--start', '2026-05-04T10:00Z'),
    a.cli('calendar', 'export', 'Team', 'Meetings', icsFile),
  ]);
  refused(badSpan, 1, /before it starts/);
  refused(noEnd, 1, /needs --start and --end/);
  ok(exported);
  assert.match(readFileSync(icsFile, 'utf8'), /^BEGIN:VCALENDAR\r\n[\s\S]*SUMMARY:Kick-off\r\n[\s\S]*END:VCALENDAR\r\n$/);
  await c.json('workspace', 'create', 'Fresh');
  await c.json('tool', 'add', 'Fresh', 'calendar', 'Imported');
  assert.deepEqual(await c.json('calendar', 'import', 'Fresh', 'Imported', icsFile), { created: 1, updated: 0, unchanged: 0 });
  const strip = (l: CalEvent[]) => l.map(({ attendeeNames: _names, ...e }) => e);
  assert.deepEqual(strip(await c.json<CalEvent[]>('calendar', 'list', 'Fresh', 'Imported')), strip(await a.json<CalEvent[]>('calendar', 'list', 'Team', 'Meetings')));

  // History: every entry with author and time; --tool keeps one tool's changes.
  const history = await b.json<History[]>('history', 'Team', '--tool', 'Todo');
  const todo = tools.find((x) => x.name === 'Todo')!.id;
  assert.ok(history.length >= 3);
  for (const h of history) {
    assert.deepEqual(Object.keys(h).sort(), ['author', 'authorName', 'id', 'kind', 'time', 'tool']);
    assert.deepEqual([h.kind, h.tool], ['doc', todo]);
  }
  assert.deepEqual([...new Set(history.map((h) => h.authorName))].sort(), ['alice', 'bob', 'carol']);
  const all = await a.json<History[]>('history', 'Team');
  assert.ok(all.some((h) => h.kind === 'control' && h.tool === undefined));
  assert.match(ok(await a.cli('history', 'Team', '--tool', 'Design doc')), /TIME +AUTHOR +KIND +TOOL[\s\S]*Design doc/);

  // Removing a tool takes it off every peer's list.
  refused(await c.cli('tool', 'rm', 'Team', 'Forum'), 3, /only managers/);
  ok(await a.cli('tool', 'rm', 'Team', 'Forum'));
  await eventually('three tools everywhere', () => everywhere(async (d) => (await d.json<Tool[]>('tool', 'list', 'Team')).length === 3), (x) => x);
});
