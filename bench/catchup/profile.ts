// Summarises a V8 .cpuprofile (from node --cpu-prof): self time per function, and the total
// time spent under a few areas of interest (inclusive), so that a profile becomes a short table.
// Usage: node bench/catchup/profile.ts FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  totalMs: number;
  top: { name: string; where: string; selfMs: number; share: number }[];
  /** Inclusive time of frames matching each area (a frame counted once per sample). */
  areas: { area: string; ms: number; share: number }[];
}

/** Inclusive areas: the first frame on the stack (from the leaf up) that matches decides. */
const AREAS: { area: string; test: (f: CallFrame) => boolean }[] = [
  { area: 'Yjs apply (applyUpdate)', test: (f) => f.functionName === 'applyUpdate' && f.url.includes('yjs') },
  { area: 'SQLite append (appendEntries)', test: (f) => f.functionName === 'appendEntries' },
  { area: 'AEAD open (openEntry)', test: (f) => f.functionName === 'openEntry' },
  { area: 'hash chain + signature (checkChain)', test: (f) => f.functionName === 'checkChain' },
  { area: 'entry decode (decodeEntry)', test: (f) => f.functionName === 'decodeEntry' },
  { area: 'frame decode (decodeFrame)', test: (f) => f.functionName === 'decodeFrame' },
  { area: 'libp2p / noise / yamux', test: (f) => /libp2p|noise|yamux|@chainsafe/.test(f.url) },
  { area: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
  { area: 'idle', test: (f) => f.functionName === '(idle)' },
];

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
      if (hit) { areaUs.set(hit.area, (areaUs.get(hit.area) ?? 0) + dt); break; }
    }
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
  const areas = AREAS.map((a) => ({ area: a.area, ms: (areaUs.get(a.area) ?? 0) / 1000, share: (areaUs.get(a.area) ?? 0) / totalUs }));
  return { totalMs: totalUs / 1000, top, areas };
}

export function formatSummary(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`profile: ${(s.totalMs / 1000).toFixed(2)} s sampled`);
  lines.push('', 'time by area (inclusive, first match from the leaf):');
  for (const a of s.areas) lines.push(`  ${a.area.padEnd(38)} ${(a.ms / 1000).toFixed(3).padStart(7)} s ${(a.share * 100).toFixed(1).padStart(5)} %`);
  lines.push('', 'top self time:');
  for (const t of s.top) lines.push(`  ${(t.selfMs / 1000).toFixed(3).padStart(7)} s ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}  (${t.where})`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) { process.stderr.write('usage: node bench/catchup/profile.ts FILE.cpuprofile [TOP]\n'); process.exit(1); }
  process.stdout.write(formatSummary(summarise(file, Number(process.argv[3] ?? 20))) + '\n');
}
