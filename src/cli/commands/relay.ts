// Relays:
//   trellis relay [--listen MULTIADDR]… [--api HOST:PORT] [--quota SIZE] [--allow KEY]…
//                                      run a relay daemon in the foreground (Ctrl-C stops it)
//   trellis relay add WS MULTIADDR     attach a relay to a workspace (managers)
//   trellis relay remove WS RELAY      detach it (its key, a key prefix or an address)
//   trellis relay list WS              the workspace's relays, whether connected, last refusal
// The relay daemon prints the same stdout lines as `trellis start` (api, peer, listen); its
// identity is created on first run with the name "relay".
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_API_PORT, parseApiAddress } from '../../daemon/api-address.ts';
import { connectApi, seg } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { handleProcessSignals, refuseIfRunning } from '../daemon-process.ts';
import { formatTime, printJson, printLine, printTable, safeLine } from '../output.ts';
import { parseSize } from '../size.ts';
import { WORKSPACE_HINT } from './invitations.ts';

const STOP_TIMEOUT_MS = 15_000;
const DEFAULT_QUOTA = '1GiB';

interface RelayRunOptions {
  listen: string[];
  api: string;
  quota: string;
  allow: string[];
  turnPort?: string;
  turnHost?: string;
}

interface RelayInfo {
  key: string;
  addrs: string[];
  by: string;
  connected: boolean;
  error?: { code: string; message: string; at: number };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerRelay(program: Command): void {
  const relay = program.command('relay')
    .description('run a relay (store-and-forward for offline members), or attach, detach and list the relays of a workspace');

  relay.command('serve', { isDefault: true, hidden: true })
    .description('run a relay daemon in the foreground (the default of `trellis relay`)')
    .addOption(new Option('--listen <multiaddr>', 'libp2p listen address; repeatable').argParser(collect).default([], '/ip4/127.0.0.1/tcp/0'))
    .option('--api <host:port>', 'local API address, loopback only; port 0 = any free port', `127.0.0.1:${DEFAULT_API_PORT}`)
    .option('--quota <size>', 'bytes held per workspace, e.g. 500MB, 2GiB', DEFAULT_QUOTA)
    .addOption(new Option('--allow <key>', 'serve only workspaces attached by this manager key (hex); repeatable').argParser(collect).default([], 'any manager'))
    .option('--turn-port <port>', 'also run a TURN server for members\' calls on this UDP port (e.g. 3478)')
    .option('--turn-host <ip>', 'the IP address members reach the TURN server at (default: the first IPv4 address listened on)')
    .action(async (opts: RelayRunOptions, cmd: Command) => {
      await runRelayDaemon(homeOf(cmd), opts);
    });

  relay.command('add')
    .description('attach a relay to a workspace (managers): members then sync through it')
    .argument('<ws>', 'workspace id or name')
    .argument('<multiaddr>', 'the relay\'s address, ending with /p2p/ and its peer id')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, addr: string, opts: { json?: boolean }, cmd: Command) => {
      if (!addr.startsWith('/')) throw new CliError(EXIT_USAGE, `"${addr}" is not a multiaddr: write it like /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…`);
      const list = await connectApi(homeOf(cmd)).post<RelayInfo[]>(`/api/workspaces/${seg(ws)}/relays`, { address: addr }, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson(list);
      else printLine(`attached; the workspace has ${list.length} relay(s)`);
    });

  relay.command('remove')
    .description('detach a relay from a workspace (managers)')
    .argument('<ws>', 'workspace id or name')
    .argument('<relay>', 'the relay\'s key, a key prefix (8+ characters) or one of its addresses')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, which: string, opts: { json?: boolean }, cmd: Command) => {
      await connectApi(homeOf(cmd)).delete(`/api/workspaces/${seg(ws)}/relays/${seg(which)}`, { notFoundHint: 'see `trellis relay list WS`' });
      if (opts.json) printJson({ removed: which });
      else printLine('detached');
    });

  relay.command('list')
    .description('the relays of a workspace: key, addresses, whether this peer is connected to them')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const list = await connectApi(homeOf(cmd)).get<RelayInfo[]>(`/api/workspaces/${seg(ws)}/relays`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) { printJson(list); return; }
      if (list.length === 0) { printLine('no relays: a manager attaches one with `trellis relay add WS MULTIADDR`'); return; }
      printTable(list.map((r) => [
        r.key.slice(0, 16), r.connected ? 'connected' : 'not connected', safeLine(r.addrs[0] ?? ''),
        r.error ? `${safeLine(r.error.message)} (${formatTime(r.error.at)})` : '',
      ]), ['RELAY', 'STATE', 'ADDRESS', 'LAST REFUSAL']);
    });
}

async function runRelayDaemon(home: string, opts: RelayRunOptions): Promise<void> {
  // Cheap checks first, before anything is created or loaded.
  const api = parseApiAddress(opts.api);
  const quota = parseSize(opts.quota, '--quota');
  for (const addr of opts.listen) {
    if (!addr.startsWith('/')) throw new CliError(EXIT_USAGE, `"${addr}" is not a multiaddr: write it like /ip4/0.0.0.0/tcp/4001`);
  }
  for (const k of opts.allow) {
    if (!/^[0-9a-f]{64}$/.test(k)) throw new CliError(EXIT_USAGE, `--allow takes a manager's key: 64 lowercase hex characters (trellis members WS shows them)`);
  }
  let turn: { port: number; host?: string } | undefined;
  if (opts.turnPort !== undefined) {
    const port = Number(opts.turnPort);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(EXIT_USAGE, '--turn-port takes a UDP port number from 1 to 65535');
    if (opts.turnHost !== undefined && isIP(opts.turnHost) === 0) throw new CliError(EXIT_USAGE, '--turn-host takes an IP address, like 203.0.113.7');
    turn = { port, ...(opts.turnHost !== undefined ? { host: opts.turnHost } : {}) };
  } else if (opts.turnHost !== undefined) {
    throw new CliError(EXIT_USAGE, '--turn-host needs --turn-port');
  }
  await refuseIfRunning(home);
  // A relay drops the workspaces it is not attached to: never start one on a peer's store.
  if (existsSync(join(home, 'trellis.db')) && !existsSync(join(home, 'relay.db'))) {
    throw new CliError(EXIT_USAGE, `${home} is a peer's home, not a relay's: give the relay a home of its own (--home DIR)`);
  }

  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${line.replace(/[\r\n]+/g, ' ')}\n`);
  };
  // Lazy imports: libsodium, SQLite and libp2p load only for the daemon.
  const { createIdentity, hasIdentity } = await import('../../store/identity-file.ts');
  if (!hasIdentity(home)) {
    createIdentity(home, 'relay');
    log(`created a new relay identity in ${home}`);
  }
  (await import('../../daemon/gc-tuning.ts')).tuneGcForStreaming();
  const { Relay } = await import('../../relay.ts');
  const { startApiServer } = await import('../../daemon/api-server.ts');
  const { relayAdminRoutes, relayApiPeer } = await import('../../daemon/relay-api.ts');

  const relay = await Relay.start({ home, listen: opts.listen.length > 0 ? opts.listen : undefined, quota, ...(opts.allow.length > 0 ? { allow: opts.allow } : {}), ...(turn ? { turn } : {}), log });

  let shuttingDown = false;
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  const shutdown = async (why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`stopping (${why})`);
    const force = setTimeout(() => {
      log(`the relay did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
    let code = 0;
    // Each step runs even if the one before failed: api.json must not outlive the daemon.
    try { await server?.close(); } catch (err) { code = 1; log(`closing the API failed: ${(err as Error).message}`); }
    try { await relay.stop(); } catch (err) { code = 1; log(`stopping the relay failed: ${(err as Error).message}`); }
    log('stopped');
    process.exit(code);
  };

  try {
    server = await startApiServer({
      peer: relayApiPeer(relay), home, host: api.host, port: api.port, log,
      onShutdown: () => void shutdown('asked through the API'), extraRoutes: relayAdminRoutes(relay),
    });
  } catch (err) {
    await relay.stop().catch(() => undefined);
    throw err;
  }
  handleProcessSignals('relay', shutdown, () => shuttingDown, log);

  const status = relay.status();
  printLine(`api ${server.url}`);
  printLine(`peer ${status.peerId}`);
  for (const addr of status.addrs) printLine(`listen ${addr}`);
  if (status.turn) printLine(`turn ${status.turn}`);
  await new Promise<never>(() => undefined);
}

