// Guards the layering of docs/ARCHITECTURE.md: each layer imports only from layers below it
// (or its own folder), and there are no import cycles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../src');
// relay/ (keyless replicas, relay service, queued joins) sits above workspaces and tools, below the
// Peer and the Relay (src/relay.ts), which both use it.
const RANK: Record<string, number> = { core: 0, crypto: 1, store: 2, net: 2, sync: 2, workspace: 3, tools: 4, relay: 4.5, 'peer-api.ts': 5, 'peer.ts': 5.5, 'relay.ts': 5.5, daemon: 6, cli: 7 };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => relative(SRC, file).split('/')[0];

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)) out.push(resolve(dirname(file), m[1] ?? m[2]));
  return out;
}

test('each layer imports only from layers below it', () => {
  const bad: string[] = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    assert.ok(from in RANK, `unknown layer ${from} (${f}): add it to the map and to docs/ARCHITECTURE.md`);
    for (const target of imports(f)) {
      const to = layerOf(target);
      if (to !== from && !(RANK[to] < RANK[from])) bad.push(`${relative(SRC, f)} -> ${relative(SRC, target)}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('no import cycles', () => {
  const graph = new Map(files(SRC).map((f) => [f, imports(f)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'visiting') { cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> ')); return; }
    state.set(f, 'visiting');
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});
