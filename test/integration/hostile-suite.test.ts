// The hostile-peer suite (issue 4) against real daemons: three honest daemons (alice and carol
// managers, bob a participant) driven by the CLI, and hostile members that joined legitimately
// (a guest, and a participant who is then removed) before turning to raw frames over real libp2p
// streams, with entries they build and sign themselves. Each case checks that the honest
// daemons' state (chat logs, members and roles, read through the CLI) is what it should be, that
// the refusal shows in `trellis audit --json` on a manager or in a daemon's log, and that every
// daemon keeps running. At the end the honest daemons must have converged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.ts';
import { decodeEntry, EntryKind, MAX_ENTRY_BYTES, ZERO_HASH, type Entry } from '../../src/core/entry.ts';
import { parseControl, type ControlPayload } from '../../src/core/membership.ts';
import type { Head } from '../../src/core/version-vector.ts';
import { entryHash, sealEntry } from '../../src/crypto/entry-seal.ts';
import { agreementKeyPair, openSealed, randomBytes, signingKeyPair, type KeyPair } from '../../src/crypto/sodium.ts';
import { createNetNode, type NetNode } from '../../src/net/libp2p-node.ts';
import { Peer } from '../../src/peer.ts';
import { createIdentity, loadIdentity } from '../../src/store/identity-file.ts';
import { FrameStream } from '../../src/sync/frame-stream.ts';
import { FrameType, MAX_FRAME_BYTES, SYNC_PROTOCOL, type Frame } from '../../src/sync/frames.ts';
import { encodeChat } from '../../src/tools/chat/chat-tool.ts';
import { encodeDocUpdate } from '../../src/tools/docs/doc-tool.ts';
import { readApiFile } from '../../src/daemon/api-file.ts';
import { Daemon, eventually } from '../helpers/daemons.ts';

interface Msg { id: string; author: string; authorName: string; text: string; time: number }
interface Member { name: string; key: string; role: string; online: boolean }
interface Audit { author: string; authorName: string; seq: number; reason: string }
interface Snapshot { chat: Msg[]; members: { name: string; key: string; role: string }[] }

const WS = 'Team';
const quiet = () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a hostile member knows: its keys, and a net node of its own to talk raw frames with. */
class Hostile {
  readonly signing: KeyPair;
  readonly agreement: KeyPair;
  readonly hex: string;
  readonly net: NetNode;
  readonly workspace: Uint8Array;

  private constructor(signing: KeyPair, agreement: KeyPair, net: NetNode, workspace: Uint8Array) {
    this.signing = signing;
    this.agreement = agreement;
    this.hex = toHex(signing.publicKey);
    this.net = net;
    this.workspace = workspace;
  }

  static async create(keys: { signing: KeyPair; agreement: KeyPair }, workspace: Uint8Array): Promise<Hostile> {
    const net = await createNetNode({ signingSecretKey: keys.signing.secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, log: quiet });
    return new Hostile(keys.signing, keys.agreement, net, workspace);
  }

  /**
   * Opens a sync session with a daemon and reads everything it holds. A daemon that is opening a
   * session towards us at that moment may refuse ours as a duplicate (PROTOCOL.md §3): retried.
   */
  async session(d: Daemon): Promise<RawSession> {
    for (let attempt = 0; ; attempt++) {
      const s = await RawSession.open(this, d);
      if (s.refusal?.code !== 'duplicate' || attempt >= 10) return s;
      await sleep(200);
    }
  }
}

/** One raw sync session: what the daemon sent, and entries built on what it holds. */
class RawSession {
  readonly owner: Hostile;
  readonly fs: FrameStream;
  readonly received: Entry[] = [];
  readonly heads = new Map<string, Head>();
  refusal: { code: string; message: string } | undefined;
  ended = false;
  /** Epoch keys sealed to us in the control entries received. */
  readonly keys = new Map<number, Uint8Array>();
  epoch = 0;
  maxClock = 0;
  /** Our own head as the daemon holds it, advanced by every entry built here. */
  private ownSeq = 0;
  private ownHash: Uint8Array = ZERO_HASH;
  private readonly waiters = new Set<() => void>();
  private syncedSeen = false;

  private constructor(owner: Hostile, fs: FrameStream) {
    this.owner = owner;
    this.fs = fs;
  }

  static async open(owner: Hostile, d: Daemon): Promise<RawSession> {
    const { stream } = await owner.net.openStream(d.addr, SYNC_PROTOCOL);
    const s = new RawSession(owner, new FrameStream(stream));
    void s.read();
    await s.fs.send({ type: FrameType.hello, version: 1, workspace: owner.workspace });
    await s.until(() => s.refusal !== undefined || s.ended || s.heads.size > 0, 'the daemon\'s VECTOR');
    if (s.refusal || s.ended) return s;
    // We claim to hold nothing, so the daemon sends us everything it holds.
    await s.fs.send({ type: FrameType.vector, heads: [] });
    await s.until(() => s.syncedSeen || s.ended, 'the daemon\'s SYNCED');
    const own = s.heads.get(owner.hex);
    if (own) { s.ownSeq = own.seq; s.ownHash = own.hash; }
    return s;
  }

  private async read(): Promise<void> {
    try {
      for await (const f of this.fs.frames()) this.handle(f);
    } catch { /* the daemon closed the stream */ }
    this.ended = true;
    this.wake();
  }

  private handle(f: Frame): void {
    if (f.type === FrameType.error) this.refusal = { code: f.code, message: f.message };
    else if (f.type === FrameType.vector) for (const h of f.heads) this.heads.set(toHex(h.author), h);
    else if (f.type === FrameType.synced) this.syncedSeen = true;
    else if (f.type === FrameType.entries) for (const bytes of f.entries) this.learn(decodeEntry(bytes));
    this.wake();
  }

  /** Tracks clocks, and opens the epoch keys the control entries seal to us (as a replica would). */
  private learn(e: Entry): void {
    this.received.push(e);
    if (e.clock > this.maxClock) this.maxClock = e.clock;
    if (e.kind !== EntryKind.control) return;
    const c = parseControl(JSON.parse(utf8.decode(e.ciphertext))) as ControlPayload;
    const me = this.owner.hex;
    const boxes: [number, string][] = [];
    if ((c.type === 'add' || c.type === 'share' || c.type === 'device') && c.key === me) boxes.push(...Object.entries(c.keys).map(([k, v]) => [Number(k), v] as [number, string]));
    if ((c.type === 'rotate' || c.type === 'remove') && c.epoch !== undefined && c.keys?.[me]) boxes.push([c.epoch, c.keys[me]]);
    for (const [epoch, box] of boxes) {
      const key = openSealed(fromHex(box), this.owner.agreement);
      if (key) this.keys.set(epoch, key);
    }
    // Storage order is causal; the newest rotation we can open is the epoch to write with.
    if ((c.type === 'rotate' || c.type === 'remove') && c.epoch !== undefined && this.keys.has(c.epoch)) this.epoch = c.epoch;
  }

  private wake(): void { for (const w of this.waiters) w(); }

  private async until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`raw session: timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const w = () => { this.waiters.delete(w); r(); };
        this.waiters.add(w);
        setTimeout(w, 100);
      });
    }
  }

  /** Builds and signs an entry of ours on top of what the daemon holds (or on `context`, to backdate it). */
  entry(kind: EntryKind, plaintext: Uint8Array, context: { heads?: Map<string, Head>; epoch?: number; clock?: number; keys?: Map<number, Uint8Array> } = {}): Uint8Array {
    const heads = context.heads ?? this.heads;
    const epoch = context.epoch ?? this.epoch;
    const key = (context.keys ?? this.keys).get(epoch);
    if (kind !== EntryKind.control && !key) throw new Error(`no key for epoch ${epoch}`);
    this.maxClock = Math.max(this.maxClock, context.clock ?? 0) + 1;
    const bytes = sealEntry({
      kind, workspace: this.owner.workspace, author: this.owner.signing.publicKey, epoch, seq: this.ownSeq + 1,
      clock: this.maxClock, time: Date.now(), prevHash: this.ownHash,
      deps: [...heads.values()].filter((h) => toHex(h.author) !== this.owner.hex).map((h) => ({ author: h.author, seq: h.seq, hash: h.hash })),
    }, plaintext, key ?? null, this.owner.signing.secretKey);
    this.ownSeq++;
    this.ownHash = entryHash(bytes);
    return bytes;
  }

  control(c: ControlPayload): Uint8Array {
    return this.entry(EntryKind.control, utf8.encode(JSON.stringify(c)));
  }

  send(entries: Uint8Array[]): Promise<void> {
    return this.fs.send({ type: FrameType.entries, entries });
  }

  /** Waits until the daemon ends the session (after an ERROR frame, if it sends one). */
  async closedByDaemon(): Promise<{ code: string; message: string } | undefined> {
    await this.until(() => this.ended, 'the daemon to close the session');
    return this.refusal;
  }

  /** Bytes as they are, for frames the encoder would refuse to build. */
  writeRaw(bytes: Uint8Array): Promise<void> {
    return this.fs.stream.write(bytes);
  }

  async close(): Promise<void> {
    // Let the daemon read what we sent before our side goes away.
    await sleep(300);
    await this.fs.stream.close().catch(() => {});
    this.fs.stream.abort();
  }
}

/** Joins as a real member with an in-process peer, then stops it: its keys are what we keep. */
async function joinAs(name: string, code: string, homes: string[]): Promise<{ signing: KeyPair; agreement: KeyPair }> {
  const home = mkdtempSync(join(tmpdir(), `trellis-hostile-${name}-`));
  homes.push(home);
  createIdentity(home, name);
  const peer = await Peer.start({ home, mdns: false, log: quiet });
  try { await peer.join(code); } finally { await peer.stop(); }
  return loadIdentity(home);
}

/** The daemon's API answered directly: cheap enough to poll while waiting for convergence. */
async function api<T>(d: Daemon, path: string): Promise<T> {
  const file = readApiFile(d.home);
  if (!file) throw new Error(`${d.name}: no api.json`);
  const res = await fetch(file.url + path, { headers: { authorization: `Bearer ${file.token}` } });
  if (!res.ok) throw new Error(`${d.name}: GET ${path} -> ${res.status}`);
  return await res.json() as T;
}


test('hostile peers against real daemons: every attack is refused and recorded, honest daemons converge', { timeout: 120_000 }, async (t) => {
  const homes: string[] = [];
  const a = await Daemon.create({ name: 'alice' });
  await a.start();
  const b = await Daemon.create({ name: 'bob', bootstrap: [a.addr] });
  const c = await Daemon.create({ name: 'carol', bootstrap: [a.addr] });
  // A newcomer with no workspace: it tries an invitation somebody else already used.
  const d = await Daemon.create({ name: 'dave' });
  await Promise.all([b.start(), c.start(), d.start()]);
  const honest = [a, b, c];
  const hostiles: Hostile[] = [];
  t.after(async () => {
    await Promise.all(hostiles.map((h) => h.net.stop().catch(quiet)));
    await Promise.all([a, b, c, d].map((x) => x.destroy()));
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  // ---- setup through the CLI: alice creates, invites carol (manager), bob, a guest and rachel ----
  const { id } = await a.json<{ id: string }>('workspace', 'create', WS);
  const wsId = fromHex(id);
  const invite = async (role: string) => (await a.json<{ code: string }>('invite', WS, '--role', role)).code;
  const [codeB, codeC, codeG, codeR] = await Promise.all(['participant', 'manager', 'guest', 'participant'].map(invite));
  const [gKeys, rKeys] = await Promise.all([joinAs('gus', codeG, homes), joinAs('rachel', codeR, homes), b.json('join', codeB), c.json('join', codeC)]);
  const gus = await Hostile.create(gKeys, wsId);
  const rachel = await Hostile.create(rKeys, wsId);
  hostiles.push(gus, rachel);
  await Promise.all([a.cli('chat', 'send', WS, 'hello from alice'), b.cli('chat', 'send', WS, 'hello from bob'), c.cli('chat', 'send', WS, 'hello from carol')]);

  const shape = (chat: Msg[], members: Member[]): Snapshot =>
    ({ chat, members: members.map((m) => ({ name: m.name, key: m.key, role: m.role })).sort((p, q) => (p.key < q.key ? -1 : 1)) });
  const viaApi = (x: Daemon) => Promise.all([api<Msg[]>(x, `/api/workspaces/${id}/chat`), api<Member[]>(x, `/api/workspaces/${id}/members`)]).then(([ch, m]) => shape(ch, m));
  const viaCli = (x: Daemon) => Promise.all([x.json<Msg[]>('chat', 'log', WS), x.json<Member[]>('members', WS)]).then(([ch, m]) => shape(ch, m));
  const same = (s: Snapshot[]) => s.every((x) => JSON.stringify(x) === JSON.stringify(s[0]));
  /**
   * Waits (polling the API) until every honest daemon shows the same state, equal to `expected`
   * when given; then reads it once more through the CLI, which must say the same.
   */
  let turn = 0;
  const settle = async (what: string, expected?: Snapshot, timeoutMs = 15_000): Promise<Snapshot> => {
    const s = await eventually(what, () => Promise.all(honest.map(viaApi)), (v) => same(v) && (!expected || JSON.stringify(v[0]) === JSON.stringify(expected)), timeoutMs);
    // One daemon per call, in turn, to keep the suite fast; the final check reads all three.
    const x = honest[turn++ % honest.length];
    assert.deepEqual(await viaCli(x), s[0], `${x.name}: the CLI shows the converged state`);
    return s[0];
  };
  /** Polls a manager's audit until `expected` (author, reason) all show, then checks `trellis audit --json`. */
  const auditShows = async (x: Daemon, expected: [string, RegExp][], what: string) => {
    const has = (items: Audit[]) => expected.every(([author, reason]) => items.some((i) => i.author === author && reason.test(i.reason)));
    await eventually(`${what} in ${x.name}'s audit`, () => api<Audit[]>(x, `/api/workspaces/${id}/audit`), has, 15_000);
    const items = await x.json<Audit[]>('audit', WS);
    assert.ok(has(items), `${what}: trellis audit --json on ${x.name}`);
    for (const i of items) assert.deepEqual(Object.keys(i).sort(), ['author', 'authorName', 'reason', 'seq']);
  };
  const allRunning = async () => {
    for (const x of [...honest, d]) assert.ok(x.running, `${x.name} is still running`);
    // And still answering.
    await Promise.all(honest.map(async (x) => assert.equal((await api<{ workspaces: number }>(x, '/api/status')).workspaces, 1)));
  };

  let state = await settle('five members and three messages everywhere');
  assert.equal(state.chat.length, 3);
  assert.deepEqual(state.members.map((m) => [m.name, m.role]).sort(), [['alice', 'manager'], ['bob', 'participant'], ['carol', 'manager'], ['gus', 'guest'], ['rachel', 'participant']]);

  await t.test('(a) a guest writing manager-only entries: self-promotion, adding a manager, a document edit', async () => {
    const s = await gus.session(a);
    assert.equal(s.refusal, undefined, 'the guest is a member: its session is accepted');
    const stranger = signingKeyPair();
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'guest was here');
    await s.send([
      s.control({ type: 'role', key: gus.hex, role: 'manager' }),
      s.control({ type: 'add', key: toHex(stranger.publicKey), agreementKey: toHex(agreementKeyPair().publicKey), role: 'manager', nameBox: toHex(randomBytes(40)), invite: toHex(randomBytes(32)), keys: {} }),
      s.entry(EntryKind.docUpdate, encodeDocUpdate(randomBytes(16), Y.encodeStateAsUpdate(doc))),
    ]);
    await s.close();
    // Every manager judges them the same way: known, refused, without effect.
    const refused: [string, RegExp][] = [[gus.hex, /guest may not change roles/], [gus.hex, /guest may not add members/], [gus.hex, /guest may not write doc/]];
    await Promise.all([auditShows(a, refused, 'the guest\'s entries'), auditShows(c, refused, 'the guest\'s entries')]);
    state = await settle('unchanged state after (a)', state);
    assert.equal(state.members.find((m) => m.key === gus.hex)?.role, 'guest');
    // The "added" stranger is no member: its sessions are refused.
    const outsider = await Hostile.create({ signing: stranger, agreement: agreementKeyPair() }, wsId);
    hostiles.push(outsider);
    assert.equal((await outsider.session(a)).refusal?.code, 'forbidden');
    // Only managers see the audit.
    const fromBob = await b.cli('audit', WS, '--json');
    assert.equal(fromBob.code, 3, fromBob.stderr);
    await allRunning();
  });

  await t.test('(b) a removed member writing after its removal with a backdated causal context', async () => {
    // Rachel's view while still a member: the context her backdated entry will claim.
    const before = await rachel.session(a);
    assert.equal(before.refusal, undefined);
    await before.close();
    const removed = await a.json<{ removed: string; epoch: number }>('remove', WS, 'rachel');
    assert.notEqual(removed.epoch, before.epoch, 'the removal starts a new key epoch');
    state = await settle('rachel gone everywhere');
    assert.ok(!state.members.some((m) => m.name === 'rachel'));
    for (const x of honest) assert.equal((await x.json<{ current: number }>('epochs', WS)).current, removed.epoch, `${x.name} writes with the new epoch`);

    // Her entry's deps omit the removal: it is concurrent with it, and "concurrent removal wins".
    const backdated = before.entry(EntryKind.chat, encodeChat('rachel, backdated after removal'));
    // Her own sessions are refused now...
    assert.equal((await rachel.session(c)).refusal?.code, 'forbidden');
    // ...so a member forwards it (an accomplice, or any replica that got it earlier).
    const relay = await gus.session(c);
    assert.equal(relay.refusal, undefined);
    await relay.send([backdated]);
    await relay.close();
    await Promise.all([auditShows(c, [[rachel.hex, /removed/]], 'the backdated entry'), auditShows(a, [[rachel.hex, /removed/]], 'the backdated entry')]);
    state = await settle('unchanged state after (b)', state);
    assert.ok(!state.chat.some((m) => m.text.includes('rachel')), 'nothing of rachel in any chat log');
    await allRunning();
  });

  await t.test('(d) an oversized entry and an oversized frame', async () => {
    const s = await gus.session(a);
    const huge = s.entry(EntryKind.chat, encodeChat('x'.repeat(MAX_ENTRY_BYTES)));
    assert.ok(huge.byteLength > MAX_ENTRY_BYTES);
    await s.send([huge]);
    assert.equal((await s.closedByDaemon())?.code, 'malformed', 'alice answers ERROR malformed and closes');
    const s2 = await gus.session(a);
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
    prefix[4] = FrameType.entries;
    await s2.writeRaw(prefix);
    assert.equal((await s2.closedByDaemon())?.code, 'malformed');
    await eventually('both in alice\'s log', async () => a.output, (log) => /malformed frame.*entry too large/.test(log) && /malformed frame.*exceeds the limit/.test(log), 10_000);
    state = await settle('unchanged state after (d)', state);
    await allRunning();
  });

  await t.test('(e) an invitation code used twice', async () => {
    const again = await d.cli('join', codeG);
    assert.equal(again.code, 3, again.stderr);
    assert.match(again.stderr, /^trellis: .*already been used\n$/);
    await eventually('the refusal in alice\'s log', async () => a.output, (log) => /join: refused .*already been used/.test(log), 10_000);
    assert.deepEqual(await d.json<unknown[]>('workspace', 'list'), []);
    state = await settle('unchanged state after (e)', state);
    await allRunning();
  });

  await t.test('(f) non-members: their sessions are refused, and their entries', async () => {
    const strangerKeys = { signing: signingKeyPair(), agreement: agreementKeyPair() };
    const stranger = await Hostile.create(strangerKeys, wsId);
    hostiles.push(stranger);
    for (const x of honest) assert.equal((await stranger.session(x)).refusal?.code, 'forbidden', `${x.name} refuses a stranger`);
    assert.equal((await rachel.session(b)).refusal?.code, 'forbidden', 'a removed member is a stranger now');
    // A stranger's entry, forwarded by a member.
    const relay = await gus.session(a);
    const forged = sealEntry({
      kind: EntryKind.chat, workspace: wsId, author: strangerKeys.signing.publicKey, epoch: relay.epoch, seq: 1, clock: relay.maxClock + 1,
      time: Date.now(), prevHash: ZERO_HASH, deps: [],
    }, encodeChat('stranger'), relay.keys.get(relay.epoch)!, strangerKeys.signing.secretKey);
    await relay.send([forged]);
    await relay.close();
    await auditShows(a, [[toHex(strangerKeys.signing.publicKey), /not a member/]], 'the stranger\'s entry');
    state = await settle('unchanged state after (f)', state);
    await allRunning();
  });

  // ---- all honest daemons have converged: identical chat logs and member lists ----
  const final = await Promise.all(honest.map(viaCli));
  assert.ok(same(final), 'identical chat logs and member lists everywhere');
  assert.deepEqual(final[0].members.map((m) => [m.name, m.role]).sort(), [['alice', 'manager'], ['bob', 'participant'], ['carol', 'manager'], ['gus', 'guest']]);
  assert.deepEqual(final[0].chat.map((m) => m.text).sort(), ['hello from alice', 'hello from bob', 'hello from carol']);

  // Last: it voids the guest's log from the fork on, on every replica.
  await t.test('(c) a forked log: two contents at one seq, sent to two daemons that then sync', async (tc) => {
    // Both daemons must agree on the guest's head first, so the two versions share their parent.
    let sb!: RawSession;
    let sc!: RawSession;
    await eventually('bob and carol agree on the guest\'s head', async () => {
      [sb, sc] = await Promise.all([gus.session(b), gus.session(c)]);
      const hb = sb.heads.get(gus.hex);
      const hc = sc.heads.get(gus.hex);
      if (hb && hc && hb.seq === hc.seq && toHex(hb.hash) === toHex(hc.hash)) return true;
      await Promise.all([sb.close(), sc.close()]);
      return false;
    }, (ok) => ok, 15_000);
    const left = sb.entry(EntryKind.chat, encodeChat('fork left'));
    const right = sc.entry(EntryKind.chat, encodeChat('fork right'));
    assert.equal(decodeEntry(left).seq, decodeEntry(right).seq);
    await Promise.all([sb.send([left]), sc.send([right])]);
    // The other version, straight to a daemon that holds one: refused on arrival as a fork.
    await sleep(300);
    await Promise.all([sb.send([right]), sc.send([left])]);
    await Promise.all([sb.close(), sc.close()]);
    await eventually('the fork in a daemon log', async () => b.output + c.output, (log) => /rejected entry .*forked log/.test(log), 10_000);
    await allRunning();
    await tc.test('then they converge: the proof travels and every replica voids the forked log', async () => {
      const after = await settle('bob, carol and alice converge after the fork', undefined, 10_000);
      assert.equal(after.chat.filter((m) => m.text.startsWith('fork ')).length, 0, 'neither version of the forked entry is shown');
      await eventually('the fork proof reached alice', async () => a.output, (log) => /forked its log at seq/.test(log), 10_000);
      assert.deepEqual(after.members, state.members);
    });
    await allRunning();
  });
});
