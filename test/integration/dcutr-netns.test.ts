// Hole punching (libp2p DCUtR) between real daemons behind firewalls, in network namespaces
// created here (needs root, iproute2 and nftables; skipped, not passed, without them).
//
// A router namespace joins four hosts, each on a public-range address (DCUtR ignores private
// ones): a `trellis relay` (7.0.1.2), the `trellis start` daemons of alice (7.0.2.2) and bob
// (7.0.3.2), and a stranger (7.0.4.2) that only probes. The router's nftables firewall refuses
// unsolicited connections to alice and bob (TCP reset); the relay is open to all.
//
// 1. Strict firewall (per-connection state, like a symmetric NAT): only packets of connections a
//    side opened itself get in. Bob joins through the relay's circuit, chat flows over it, and
//    every DCUtR attempt fails: js-libp2p's TCP dials leave from an ephemeral port, never from the
//    listening port, so alice's and bob's simultaneous dials are two different connections, each
//    unsolicited at the other end. They stay on the relayed connection.
// 2. Hole-punchable firewall (address-dependent filtering, RFC 4787): a side accepts connections
//    from an address it has itself sent a connection attempt to (a pinhole), and nothing else.
//    Bob reconnects through the circuit; alice's dial back alone is refused, but after DCUtR's
//    CONNECT/SYNC exchange over the relay both dial at once and the direct connection opens; the
//    relayed one closes. With the relay stopped, chat still flows.
//
// Connection types come from the daemons' own log ("net: opened relayed|direct ... connection"),
// libp2p's DCUtR debug log (DEBUG=libp2p:dcutr*) and the kernel's socket table in each namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { eventually, ROOT } from '../helpers/daemons.ts';
import { IP, NetnsLab, netnsUnavailable, namespacesOfThisProcess, NFT, SS, type Host } from '../helpers/netns.ts';
import { NetnsDaemon } from '../helpers/netns-daemons.ts';

const PORT = 4001;

/** The router's nftables ruleset: what may reach alice's and bob's hosts. */
function firewall(mode: 'strict' | 'hole-punchable', alice: Host, bob: Host): string {
  const sides = [['alice', alice.routerIf], ['bob', bob.routerIf]] as const;
  // Unsolicited = not part of a connection the side opened, and (hole-punchable) not from an
  // address the side has sent a connection attempt to in the last minute.
  const unsolicited = (n: string) => (mode === 'strict' ? '' : `ip saddr != @contacted_${n} `);
  return `flush ruleset
table inet lab {
${sides.map(([n]) => `  counter refused_${n} { }`).join('\n')}
${mode === 'strict' ? '' : sides.map(([n]) => `  set contacted_${n} { type ipv4_addr; flags dynamic,timeout; timeout 60s; }`).join('\n')}
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
${mode === 'strict' ? '' : sides.map(([n, dev]) => `    iifname "${dev}" update @contacted_${n} { ip daddr }`).join('\n')}
${sides.map(([n, dev]) => `    oifname "${dev}" ${unsolicited(n)}meta l4proto tcp counter name refused_${n} reject with tcp reset
    oifname "${dev}" ${unsolicited(n)}counter name refused_${n} drop`).join('\n')}
  }
}`;
}

interface Msg { text: string }

test('peers behind firewalls meet through the relay\'s circuit, then DCUtR hole punches a direct connection', { skip: netnsUnavailable(), timeout: 90_000 }, async (t) => {
  const lab = await NetnsLab.create();
  const daemons: NetnsDaemon[] = [];
  t.after(async () => {
    await Promise.all(daemons.map((d) => d.destroy()));
    await lab.destroy();
  });
  const relayHost = await lab.addHost('relay');
  const aHost = await lab.addHost('alice');
  const bHost = await lab.addHost('bob');
  const stranger = await lab.addHost('stranger');
  await lab.nft(lab.router, firewall('strict', aHost, bHost));

  /** Remote addresses of the established TCP connections in a host's namespace. */
  const tcpPeersOf = async (h: Host): Promise<string[]> => {
    const r = await lab.exec(h.ns, SS, ['-Htn', 'state', 'established']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).at(-1)!.replace(/:\d+$/, ''));
  };
  /** A TCP connection attempt from the stranger's host: 'connected' or the error code. */
  const probe = async (ip: string): Promise<string> => {
    const script = `const s = require('node:net').connect(${PORT}, '${ip}');
      s.setTimeout(3000, () => { console.log('timeout'); s.destroy(); });
      s.on('connect', () => { console.log('connected'); s.destroy(); });
      s.on('error', (e) => console.log(e.code));`;
    return (await lab.exec(stranger.ns, process.execPath, ['-e', script])).stdout.trim();
  };
  /** Packets the firewall refused on their way to alice or bob. */
  const refused = async (side: 'alice' | 'bob'): Promise<number> => {
    const r = await lab.exec(lab.router, NFT, ['-j', 'list', 'counter', 'inet', 'lab', `refused_${side}`]);
    const found = (JSON.parse(r.stdout) as { nftables: { counter?: { packets: number } }[] }).nftables.find((x) => x.counter);
    return found!.counter!.packets;
  };

  const debug = { DEBUG: 'libp2p:dcutr*' };
  const relay = new NetnsDaemon({ lab, ns: relayHost.ns, kind: 'relay', name: 'relay', listen: [`/ip4/${relayHost.ip}/tcp/${PORT}`] });
  const a = new NetnsDaemon({ lab, ns: aHost.ns, kind: 'start', name: 'alice', listen: [`/ip4/${aHost.ip}/tcp/${PORT}`], env: debug });
  const b = new NetnsDaemon({ lab, ns: bHost.ns, kind: 'start', name: 'bob', listen: [`/ip4/${bHost.ip}/tcp/${PORT}`], env: debug });
  daemons.push(relay, a, b);
  await Promise.all([relay.start(), a.start(), b.start()]);
  // Public listen addresses are advertised (libp2p 3 withholds them until AutoNAT confirms them).
  assert.deepEqual([relay.addrs, a.addrs, b.addrs], [relay, a, b].map((d) => [`${d.opts.listen[0]}/p2p/${d.peerId}`]));
  const context = () => `\n--- alice:\n${a.output}\n--- bob:\n${b.output}`;
  /** A daemon's "net: opened|closed relayed|direct ... connection to <other>" lines, from `from` on in its output. */
  const connLines = (d: NetnsDaemon, other: NetnsDaemon, what: 'opened' | 'closed', kind: 'relayed' | 'direct', from = 0) =>
    d.output.slice(from).split('\n').filter((l) => l.includes(`net: ${what} ${kind} `) && l.includes(` connection to ${other.peerId} `));

  // The firewall refuses whoever was not contacted, although the daemons listen; the relay is open.
  assert.deepEqual(await Promise.all([probe(aHost.ip), probe(bHost.ip), probe(relayHost.ip)]), ['ECONNREFUSED', 'ECONNREFUSED', 'connected']);
  assert.ok(await refused('alice') >= 1 && await refused('bob') >= 1, 'the refusals came from the firewall');

  // ---- 1. strict firewall: the circuit, and only the circuit ----
  await a.json('workspace', 'create', 'Team');
  await a.json('relay', 'add', 'Team', relay.addrs[0]);
  await eventually('alice holds a slot at the relay', () => a.json<{ addrs: string[] }>('status'), (s) => s.addrs.some((x) => x.startsWith(`${relay.addrs[0]}/p2p-circuit/`)));
  const { code } = await a.json<{ code: string }>('invite', 'Team');
  const refusedBefore = await refused('alice');
  const joined = await b.cli('join', code);
  assert.equal(joined.code, 0, joined.stderr + context());
  assert.ok(await refused('alice') > refusedBefore, 'bob tried alice\'s own address first and was refused');
  assert.equal(connLines(b, a, 'opened', 'relayed').length, 1, 'bob reached alice through the circuit' + context());
  await a.cli('chat', 'send', 'Team', 'over the relay');
  await eventually('bob has alice\'s message', () => b.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 1);
  // DCUtR runs on alice's side (the relayed connection is inbound there): a dial back to bob,
  // then three rounds of CONNECT/SYNC over the relay with simultaneous dials. All refused.
  await eventually('DCUtR gave up', async () => a.output, (o) => o.includes('error while attempting DCUtR on attempt 3 of 3'), 20_000)
    .catch((err: Error) => { throw new Error(err.message + context()); });
  assert.match(a.output, /unilateral connection upgrade to \S+ on addresses \/ip4\/7\.0\.3\.2\/\S+ failed/);
  // libp2p names the roles after the spec's: the relayed connection's inbound side is its "B".
  assert.match(a.output, /B dialing \[\s*Multiaddr\(\/ip4\/7\.0\.3\.2\//, 'alice dialled bob in the hole punch' + context());
  assert.match(b.output, /A dialing \[\s*Multiaddr\(\/ip4\/7\.0\.2\.2\//, 'bob dialled alice in the hole punch' + context());
  assert.deepEqual([connLines(a, b, 'opened', 'direct'), connLines(b, a, 'opened', 'direct')], [[], []], 'no direct connection');
  assert.deepEqual((await tcpPeersOf(aHost)).filter((ip) => ip !== relayHost.ip), [], 'alice\'s only TCP connections are to the relay');
  await b.cli('chat', 'send', 'Team', 'still over the relay');
  await eventually('alice has bob\'s message', () => a.json<Msg[]>('chat', 'log', 'Team'), (l) => l.length === 2);

  // ---- 2. hole-punchable firewall: DCUtR replaces the circuit by a direct connection ----
  await lab.nft(lab.router, firewall('hole-punchable', aHost, bHost));
  await b.stop();
  const aFrom = a.output.length;
  const bFrom = b.output.length;
  await b.start();
  // Bob redials the addresses he stored for alice in the peer store's order, where her circuit
  // address (through 7.0.1.2) sorts before her own (7.0.2.2): he reaches her through the relay
  // without sending anything to her address, so neither firewall has a pinhole for the other yet.
  await eventually('a direct connection between alice and bob', async () => [...connLines(a, b, 'opened', 'direct'), ...connLines(b, a, 'opened', 'direct')], (l) => l.length > 0, 20_000)
    .catch((err: Error) => { throw new Error(err.message + context()); });
  const aLog = a.output.slice(aFrom);
  const bLog = b.output.slice(bFrom);
  assert.equal(connLines(b, a, 'opened', 'relayed', bFrom).length, 1, 'bob came back through the circuit' + context());
  // Alice's dial back alone is refused ...
  assert.match(aLog, /unilateral connection upgrade to \S+ on addresses \/ip4\/7\.0\.3\.2\/\S+ failed/, context());
  // ... but after CONNECT/SYNC both dial at once, each opening its side's pinhole for the other.
  assert.match(aLog + bLog, /libp2p:dcutr DCUtR to \S+ succeeded (via|to address) \/ip4\/7\.0\.[23]\.2\/tcp\/\d+\/p2p\/\S+, closing relayed connection/, context());
  await eventually('the relayed connection is closed on both sides',
    async () => [connLines(a, b, 'closed', 'relayed', aFrom), connLines(b, a, 'closed', 'relayed', bFrom)], ([x, y]) => x.length === 1 && y.length === 1, 10_000);
  // The kernel agrees (libp2p keeps both direct connections when both simultaneous dials succeed).
  assert.ok((await tcpPeersOf(aHost)).includes(bHost.ip), 'alice has a TCP connection to bob' + context());
  assert.ok((await tcpPeersOf(bHost)).includes(aHost.ip), 'bob has a TCP connection to alice');
  // The firewall still refuses anyone else.
  assert.deepEqual(await Promise.all([probe(aHost.ip), probe(bHost.ip)]), ['ECONNREFUSED', 'ECONNREFUSED']);

  // Without the relay, sync runs over the direct connection.
  await relay.stop();
  await a.cli('chat', 'send', 'Team', 'direct from alice');
  await b.cli('chat', 'send', 'Team', 'direct from bob');
  const all = JSON.stringify(['direct from alice', 'direct from bob', 'over the relay', 'still over the relay']);
  const texts = (l: Msg[]) => JSON.stringify(l.map((m) => m.text).sort());
  await eventually('bob has every message', () => b.json<Msg[]>('chat', 'log', 'Team'), (l) => texts(l) === all);
  await eventually('alice has every message', () => a.json<Msg[]>('chat', 'log', 'Team'), (l) => texts(l) === all);
  const left = await tcpPeersOf(aHost);
  assert.ok(left.length > 0 && left.every((ip) => ip === bHost.ip), `alice's only TCP connections are direct ones to bob: ${left.join(' ')}`);
});

/** Whether a process runs (a zombie, dead but not reaped yet, does not). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a network lab removes its namespaces and processes, and those left by a lab whose process was killed', { skip: netnsUnavailable(), timeout: 30_000 }, async (t) => {
  const lab = await NetnsLab.create();
  t.after(() => lab.destroy());
  const h = await lab.addHost('sleeper');
  const sleeper = lab.spawn(h.ns, '/bin/sleep', ['300'], { stdio: 'ignore' });
  const exited = new Promise((r) => sleeper.once('exit', r));
  assert.equal(namespacesOfThisProcess().length, 2, 'router and host');
  await lab.destroy();
  await exited;
  assert.deepEqual(namespacesOfThisProcess(), []);
  assert.equal(running(sleeper.pid!), false);

  // Another process creates a lab with a process in it and dies by SIGKILL, leaving both behind.
  const script = `import { NetnsLab } from './test/helpers/netns.ts';
    const lab = await NetnsLab.create();
    const h = await lab.addHost('orphan');
    lab.spawn(h.ns, '/bin/sleep', ['300'], { stdio: 'ignore', detached: true }).unref();
    console.log(h.ns);
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const orphanNs = await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString().trim())));
  const pidsIn = (ns: string) => execFileSync(IP, ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  const orphans = pidsIn(orphanNs);
  assert.equal(orphans.length, 1, 'the sleeper runs in the orphaned namespace');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // The next lab cleans up.
  const next = await NetnsLab.create();
  await next.destroy();
  assert.ok(!execFileSync(IP, ['netns', 'list'], { encoding: 'utf8' }).includes(orphanNs), 'the orphaned namespace is gone');
  await eventually('its process is gone', async () => running(orphans[0]), (r) => !r, 5_000);
});
