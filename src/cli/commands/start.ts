// `trellis start`: runs the daemon in the foreground: the Peer (libp2p node, store, sync) and the
// local API in front of it. stdout carries exactly the lines tests and scripts parse:
//   api http://127.0.0.1:PORT
//   web http://127.0.0.1:PORT/#token=TOKEN   (open it once; the page trades the token for a cookie)
//   peer <peerId>
//   listen <multiaddr>          (one per address)
// Everything else (log lines) goes to stderr; the token never goes there.
// Without an identity and without --name, the daemon starts in onboarding mode: the API and the
// web UI run, the page asks for a display name (POST /api/identity), and only then are the
// identity created and the peer started; the `peer` and `listen` lines follow at that moment.
import { Option, type Command } from 'commander';
import { DEFAULT_API_PORT, parseApiAddress } from '../../daemon/api-address.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { handleProcessSignals, refuseIfRunning } from '../daemon-process.ts';
import { printLine } from '../output.ts';

/** If the peer does not stop within this, the process exits anyway: a shutdown must not hang. */
const STOP_TIMEOUT_MS = 15_000;

interface StartOptions {
  name?: string;
  listen: string[];
  bootstrap: string[];
  mdns: boolean;
  api: string;
  callsViaRelay?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerStart(program: Command): void {
  program.command('start')
    .description('run the daemon in the foreground (Ctrl-C stops it)')
    .option('--name <name>', 'create the identity with this name if the home has none')
    .addOption(new Option('--listen <multiaddr>', 'libp2p listen address; repeatable').argParser(collect).default([], '/ip4/127.0.0.1/tcp/0'))
    .addOption(new Option('--bootstrap <multiaddr>', 'peer to dial at start, with /p2p/ID; repeatable').argParser(collect).default([], 'none'))
    .option('--no-mdns', 'do not discover peers on the local network')
    .option('--calls-via-relay', 'calls go through the TURN server of a workspace\'s relay, never directly: other callers do not learn this device\'s addresses')
    .option('--api <host:port>', `local API address, loopback only; port 0 = any free port`, `127.0.0.1:${DEFAULT_API_PORT}`)
    .action(async (opts: StartOptions, cmd: Command) => {
      await runDaemon(homeOf(cmd), opts);
    });
}

async function runDaemon(home: string, opts: StartOptions): Promise<void> {
  // Cheap checks first, before anything is created or loaded.
  const api = parseApiAddress(opts.api);
  for (const addr of [...opts.listen, ...opts.bootstrap]) {
    if (!addr.startsWith('/')) throw new CliError(EXIT_USAGE, `"${addr}" is not a multiaddr: write it like /ip4/127.0.0.1/tcp/4001`);
  }
  await refuseIfRunning(home);

  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${line.replace(/[\r\n]+/g, ' ')}\n`);
  };

  // Lazy imports: libsodium, SQLite and libp2p load only for the daemon, not for thin clients.
  const { createIdentity, hasIdentity } = await import('../../store/identity-file.ts');
  const onboarding = !hasIdentity(home) && opts.name === undefined;
  if (onboarding) {
    log(`no identity in ${home} yet: choose a name in the web UI (or stop and pass --name NAME)`);
  } else if (!hasIdentity(home)) {
    createIdentity(home, opts.name!);
    log(`created a new identity in ${home}`);
  } else if (opts.name !== undefined) {
    log('an identity exists already; --name is ignored');
  }

  (await import('../../daemon/gc-tuning.ts')).tuneGcForStreaming();
  const { Peer } = await import('../../peer.ts');
  const { startApiServer } = await import('../../daemon/api-server.ts');
  const { PeerSlot } = await import('../../daemon/peer-slot.ts');
  const { identityRoutes } = await import('../../daemon/onboarding.ts');
  const { capabilityRoutes } = await import('../../daemon/capabilities.ts');
  const { apiRoutes } = await import('../../daemon/routes/index.ts');

  const slot = new PeerSlot();
  let peer: Awaited<ReturnType<typeof Peer.start>> | undefined;
  const startPeer = async (): Promise<void> => {
    peer = await Peer.start({
      home,
      listen: opts.listen.length > 0 ? opts.listen : undefined,
      bootstrap: opts.bootstrap,
      mdns: opts.mdns,
      callsViaRelay: opts.callsViaRelay === true,
      log,
    });
    slot.set(peer);
  };
  const printPeer = (): void => {
    const status = peer!.status();
    printLine(`peer ${status.peerId}`);
    for (const addr of status.addrs) printLine(`listen ${addr}`);
  };
  if (!onboarding) await startPeer();

  let shuttingDown = false;
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  const shutdown = async (why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`stopping (${why})`);
    const force = setTimeout(() => {
      log(`the peer did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
    let code = 0;
    // Each step runs even if the one before failed: api.json must not outlive the daemon.
    try { await server?.close(); } catch (err) { code = 1; log(`closing the API failed: ${(err as Error).message}`); }
    try { await peer?.stop(); } catch (err) { code = 1; log(`stopping the peer failed: ${(err as Error).message}`); }
    log('stopped');
    process.exit(code);
  };

  const createFromUi = async (name: string): Promise<void> => {
    createIdentity(home, name);
    log(`created a new identity in ${home}`);
    try {
      await startPeer();
    } catch (err) {
      // The identity is saved; a restart picks it up. Running on without a peer would help no one.
      log(`the peer did not start: ${(err as Error).message.split('\n')[0]}`);
      void shutdown('the peer did not start').finally(() => process.exit(1));
      throw err;
    }
    printPeer();
  };
  try {
    server = await startApiServer({
      peer: slot.api, home, host: api.host, port: api.port, log, onShutdown: () => void shutdown('asked through the API'),
      extraRoutes: (() => {
        const identity = identityRoutes({ name: () => peer?.identity.name, create: createFromUi });
        return [...identity, ...capabilityRoutes([...apiRoutes, ...identity])];
      })(),
    });
  } catch (err) {
    await peer?.stop().catch(() => undefined);
    throw err;
  }

  handleProcessSignals('daemon', shutdown, () => shuttingDown, log);

  printLine(`api ${server.url}`);
  // In the fragment, which browsers never send: the token reaches no server log and no Referer.
  printLine(`web ${server.url}/#token=${server.token}`);
  if (peer !== undefined) printPeer();

  // Run until shutdown() exits the process.
  await new Promise<never>(() => undefined);
}

