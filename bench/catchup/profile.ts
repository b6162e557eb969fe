// Summarises a V8 .cpuprofile (node --cpu-prof, or the inspector as run.ts --profile uses it):
// time per component and the top functions by self time, so that a profile becomes a short table.
// Usage: node bench/catchup/profile.ts FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  totalMs: number;
  top: { name: string; where: string; selfMs: number; share: number }[];
  /** Time per component (see AREAS). */
  areas: { area: string; ms: number; share: number }[];
}

/**
 * Components. A sample goes to the innermost frame that matches one (native leaves such as a
 * buffer copy walk up to their JavaScript caller), so this is self time by component.
 */
const AREAS: { area: string; test: (f: CallFrame) => boolean }[] = [
  { area: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
  { area: 'idle (waiting for data)', test: (f) => f.functionName === '(idle)' },
  { area: 'Yjs and lib0', test: (f) => /node_modules\/(yjs|lib0)\//.test(f.url) },
  { area: 'SQLite (store calls)', test: (f) => f.url.includes('src/store/sqlite-store.ts') },
  { area: 'libsodium (AEAD, BLAKE2b, Ed25519)', test: (f) => f.url.includes('sodium-native') || f.url.includes('src/crypto/') },
  { area: 'libp2p, Noise, Yamux, sockets', test: (f) => /libp2p|chainsafe|node_modules\/(it-|uint8arraylist|@noble)|node:internal\/crypto|node:net|stream_base|src\/net\//.test(f.url) },
  { area: 'entry and frame codecs', test: (f) => /src\/(core\/entry|core\/bytes|sync\/frames|sync\/frame-stream)\.ts/.test(f.url) },
  { area: 'rest of Trellis (ingest, chain, membership, tools, sync)', test: (f) => f.url.includes('/src/') },
  { area: 'Node internals, start-up', test: (f) => f.url.startsWith('node:') || f.functionName === '(program)' },
];

const OTHER = 'other';

function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  const s = url.indexOf('/src/');
  if (s >= 0) return url.slice(s + 1);
  return url.replace(/^file:\/\//, '') || '(native)';
}

export function summarise(path: string, topN = 20): ProfileSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<number, number>();
  const areaUs = new Map<string, number>();
  let totalUs = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    totalUs += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
    // Walk from the leaf to the root; the first area found gets the sample.
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const hit = AREAS.find((a) => a.test(f));
      if (hit) { areaUs.set(hit.area, (areaUs.get(hit.area) ?? 0) + dt); return; }
    }
    areaUs.set(OTHER, (areaUs.get(OTHER) ?? 0) + dt);
  });
  // Self time per function (merged over call sites).
  const fnUs = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = `${shortUrl(f.url)}:${f.lineNumber + 1}`;
    const k = `${f.functionName}@${where}`;
    const e = fnUs.get(k) ?? { name: f.functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    fnUs.set(k, e);
  }
  const top = [...fnUs.values()].sort((a, b) => b.us - a.us).slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / totalUs }));
  const areas = [...AREAS.map((a) => a.area), OTHER].map((area) => ({ area, ms: (areaUs.get(area) ?? 0) / 1000, share: (areaUs.get(area) ?? 0) / totalUs }));
  return { totalMs: totalUs / 1000, top, areas };
}

export function formatSummary(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`profile: ${(s.totalMs / 1000).toFixed(2)} s sampled`);
  lines.push('', 'time by component (innermost matching frame):');
  for (const a of s.areas) lines.push(`  ${a.area.padEnd(56)} ${(a.ms / 1000).toFixed(3).padStart(7)} s ${(a.share * 100).toFixed(1).padStart(5)} %`);
  lines.push('', 'top self time:');
  for (const t of s.top) lines.push(`  ${(t.selfMs / 1000).toFixed(3).padStart(7)} s ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}  (${t.where})`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) { process.stderr.write('usage: node bench/catchup/profile.ts FILE.cpuprofile [TOP]\n'); process.exit(1); }
  process.stdout.write(formatSummary(summarise(file, Number(process.argv[3] ?? 20))) + '\n');
}
