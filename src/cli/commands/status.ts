// `trellis status`: this peer's name, id, addresses and counts.
import type { Command } from 'commander';
import type { PeerStatus } from '../../peer-api.ts';
import { connectApi } from '../api-client.ts';
import { homeOf } from '../home.ts';
import { printJson, printTable, safeLine } from '../output.ts';

export function registerStatus(program: Command): void {
  program.command('status')
    .description('show this peer: name, peer id, addresses, connections, workspaces')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // A relay daemon (`trellis relay`) adds what it holds.
      const s = await connectApi(homeOf(cmd)).get<PeerStatus & { relay?: boolean; bytesHeld?: number; quota?: number }>('/api/status');
      const relay = s.relay === true ? { relay: true, bytesHeld: s.bytesHeld ?? 0, quota: s.quota ?? 0 } : undefined;
      if (opts.json) {
        printJson({ name: s.name, peerId: s.peerId, addrs: s.addrs, connections: s.connections, workspaces: s.workspaces, ...relay });
        return;
      }
      printTable([
        ['name', safeLine(s.name)],
        ['peer', s.peerId],
        ['connections', String(s.connections)],
        ['workspaces', String(s.workspaces)],
        ...(relay ? [['role', 'relay'], ['bytes held', String(relay.bytesHeld)], ['quota', `${relay.quota} bytes per workspace`]] : []),
        ...s.addrs.map((a) => ['address', a]),
      ]);
    });
}
