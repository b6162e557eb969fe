// Child: the reference. A fresh Y.Doc applies the same per-edit updates one by one, in memory,
// in a fresh process (cold JIT, like the receiver), with the input loaded before the clock starts.
// The clock stops once the text is checked, as the receiver's does.
import { readFileSync } from 'node:fs';
import * as Y from 'yjs';
import { main, params, peakRssMiB, send } from './child-io.ts';
import { machineBusyMs } from './machine-load.ts';
import { readUpdates } from './trace.ts';

interface Params { updatesPath: string; expectedPath: string }

main(async () => {
  const p = params<Params>();
  const updates = readUpdates(p.updatesPath);
  const expected = readFileSync(p.expectedPath, 'utf8');
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const doc = new Y.Doc();
  // The same call the document tool makes for each received entry.
  for (const u of updates) Y.applyUpdate(doc, u, 'remote');
  const ok = doc.getText('text').toString() === expected;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const busy1 = machineBusyMs();
  // Machine CPU time not ours over the timed span, to flag runs disturbed by other work.
  const otherMs = busy0 === undefined || busy1 === undefined ? -1 : Math.max(0, busy1 - busy0 - (cpu.user + cpu.system) / 1000);
  if (!ok) throw new Error('bare Yjs did not reproduce the trace\'s end content');
  await send({ type: 'result', ms, otherMs, updates: updates.length, rssMiB: peakRssMiB() });
});
