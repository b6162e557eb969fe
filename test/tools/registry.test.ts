// The workspace's tool list: managers add and remove instances, everyone resolves them by id or
// name, history maps document changes to tools, and every tool type plugs in the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { workspaceHistory } from '../../src/tools/registry/history.ts';
import { removeToolInstance, resolveTool, toolList } from '../../src/tools/registry/tool-list.ts';
import { TOOL_INFOS } from '../../src/tools/registry/tool-infos.ts';
import { createTool, TOOL_TYPES, toolType } from '../../src/tools/registry/tool-types.ts';
import { addTask } from '../../src/tools/tasks/tasks-tool.ts';
import { writeNoteMarkdown } from '../../src/tools/notes/notes-tool.ts';
import { memoryWorkspace, sync, WS } from './memory-access.ts';

test('managers add tools; everyone lists and resolves them by id or unique name', () => {
  const [alice, bob, carol] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'participant' }, { name: 'carol', role: 'guest' });
  const notes = createTool(alice, WS, 'notes', '  Design doc ');
  assert.match(notes.id, /^[0-9a-f]{32}$/);
  assert.equal(notes.name, 'Design doc');
  const tasks = createTool(alice, 'Team', 'tasks', 'Todo');
  sync(alice, bob, carol);
  for (const r of [alice, bob, carol]) {
    assert.deepEqual(toolList(r, WS).map((t) => [t.id, t.type, t.name]), [[notes.id, 'notes', 'Design doc'], [tasks.id, 'tasks', 'Todo']]);
    assert.equal(resolveTool(r, WS, 'Todo').id, tasks.id);
    assert.equal(resolveTool(r, WS, notes.id.toUpperCase()).id, notes.id);
  }
  assert.throws(() => resolveTool(bob, WS, 'Nope'), { code: 'not-found', message: /no tool "Nope"/ });
  assert.throws(() => resolveTool(bob, WS, 'Todo', 'notes'), { code: 'invalid', message: /"Todo" is a tasks tool, not a notes tool/ });
  assert.throws(() => createTool(alice, WS, 'notes', 'Todo'), { code: 'conflict' });
  assert.throws(() => createTool(alice, WS, 'sketch', 'X'), { code: 'invalid', message: /unknown tool type "sketch": use notes, tasks, calendar, discussion/ });
  for (const bad of ['', '   ', 'a\nb', 'x'.repeat(101), 'ab'.repeat(16)]) assert.throws(() => createTool(alice, WS, 'notes', bad), { code: 'invalid' }, JSON.stringify(bad));
  assert.throws(() => createTool(bob, WS, 'notes', 'Mine'), { code: 'forbidden', message: /only managers/ });
  assert.throws(() => createTool(carol, WS, 'notes', 'Mine'), { code: 'forbidden' });
  assert.throws(() => removeToolInstance(bob, WS, 'Todo'), { code: 'forbidden' });
  assert.equal(removeToolInstance(alice, WS, 'Todo').id, tasks.id);
  sync(alice, bob);
  assert.deepEqual(toolList(bob, WS).map((t) => t.name), ['Design doc']);
  assert.throws(() => resolveTool(bob, WS, 'Todo'), { code: 'not-found' });
});

test('two managers adding the same name offline keep both tools; the name then needs the id', () => {
  const [a, b] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'manager' });
  const x = createTool(a, WS, 'notes', 'Plan');
  const y = createTool(b, WS, 'tasks', 'Plan');
  sync(a, b);
  assert.equal(toolList(a, WS).length, 2);
  assert.throws(() => resolveTool(a, WS, 'Plan'), { code: 'invalid', message: /2 tools are named "Plan": use the tool's id/ });
  assert.equal(resolveTool(b, WS, x.id).type, 'notes');
  assert.equal(resolveTool(b, WS, y.id).type, 'tasks');
});

test('history lists every change with its author, and the tool it changed', () => {
  const [alice, bob] = memoryWorkspace({ name: 'alice', role: 'manager' }, { name: 'bob', role: 'participant' });
  const note = createTool(alice, WS, 'notes', 'Notes');
  const list = createTool(alice, WS, 'tasks', 'Tasks');
  sync(alice, bob);
  writeNoteMarkdown(bob, WS, note.id, '# Hi\n', 'replace');
  addTask(bob, WS, list.id, { title: 'Write' });
  sync(alice, bob);
  const all = workspaceHistory(alice, WS);
  assert.deepEqual(all.map((h) => [h.authorName, h.kind, h.tool ?? null]), [
    ['alice', 'doc', null], ['alice', 'doc', null], ['bob', 'doc', note.id], ['bob', 'doc', list.id],
  ]);
  assert.deepEqual(Object.keys(all[2]).sort(), ['author', 'authorName', 'id', 'kind', 'time', 'tool']);
  assert.deepEqual(workspaceHistory(alice, WS, 'Tasks').map((h) => h.tool), [list.id]);
  assert.throws(() => workspaceHistory(alice, WS, 'Nope'), { code: 'not-found' });
});

test('every tool type declares routes that do not clash and commands with descriptions', () => {
  const seen = new Set<string>();
  for (const t of TOOL_TYPES) {
    assert.equal(toolType(t.type), t);
    assert.ok(t.description.length > 0 && t.commands.length > 0 && t.routes.length > 0, t.type);
    for (const r of t.routes) {
      assert.match(r.path, /^\/[a-z]/, `${t.type} ${r.path}`);
      const key = `${r.method} ${r.path}`;
      assert.ok(!seen.has(key), `${key} is declared twice`);
      seen.add(key);
      if (r.method !== 'GET') assert.ok(r.body !== undefined, `${key} validates its body`);
    }
    for (const c of t.commands) assert.ok(c.description.length > 0, `${t.type} ${c.name}`);
  }
});

test('the CLI\'s tool index matches the daemon\'s, and the CLI loads neither Yjs nor zod', () => {
  assert.deepEqual(TOOL_INFOS.map((t) => t.type), TOOL_TYPES.map((t) => t.type));
  TOOL_INFOS.forEach((info, i) => {
    assert.equal(info.description, TOOL_TYPES[i].description);
    assert.equal(info.commands, TOOL_TYPES[i].commands);
  });
  // Follow the runtime imports (not `import type`) from the CLI's entry point.
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // Within one statement: `[^'";]` keeps a match from running on past an `export interface {…;}`.
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm)) {
      if (m[1].startsWith('.')) visit(resolve(dirname(file), m[1]));
      else packages.add(m[1]);
    }
  };
  visit(resolve(import.meta.dirname, '../../src/cli/program.ts'));
  assert.ok(seen.size > 10);
  assert.ok(!packages.has('yjs') && !packages.has('zod'), `the CLI imports ${[...packages].join(', ')}`);
});
