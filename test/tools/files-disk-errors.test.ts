// What a user sees when the disk is full or a folder is forbidden during `files add` and `files get`:
// a sentence naming the place and what to do, with a TrellisError code (the CLI's exit status),
// never "internal error". The mapping is checked on its own; then for real on small tmpfs mounts
// (needs root and tmpfs: skipped, not passed, without them), with two Peers on real libp2p.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrellisError } from '../../src/core/errors.ts';
import { startApiServer } from '../../src/daemon/api-server.ts';
import { Peer } from '../../src/peer.ts';
import { createIdentity } from '../../src/store/identity-file.ts';
import { explainWriteError, isWriteOnlyFailure } from '../../src/core/io-errors.ts';
import { waitFor } from '../helpers/replicas.ts';
import { mountTmpfs, tmpfsMountsWork, unmount } from '../helpers/tmpfs.ts';

const errno = (code: string, path?: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: something, write`), { code, ...(path ? { path } : {}) });

test('disk errors: full, forbidden, read-only and failing disks become sentences; anything else is left alone', () => {
  const full = explainWriteError(errno('ENOSPC'), '/data/out.bin', 'run the same command again');
  assert.ok(full instanceof TrellisError);
  assert.equal(full.code, 'unavailable');
  assert.equal(full.message, 'no space left on the disk of /data/out.bin: free some space, then run the same command again');
  assert.equal((explainWriteError(errno('EDQUOT'), 'x', 'y') as TrellisError).code, 'unavailable');
  const denied = explainWriteError(errno('EACCES'), '/data/out.bin', 'retry') as TrellisError;
  assert.deepEqual([denied.code, /permission denied writing \/data\/out\.bin/.test(denied.message)], ['forbidden', true]);
  assert.equal((explainWriteError(errno('EROFS'), 'x', 'y') as TrellisError).code, 'forbidden');
  assert.equal((explainWriteError(errno('EIO'), 'x', 'y') as TrellisError).code, 'unavailable');
  // Not the user's to fix (or not a file-system error at all): unchanged, so it is logged as a bug.
  const other = errno('EBADF');
  assert.equal(explainWriteError(other, 'x', 'y'), other);
  const bug = new TypeError('oops');
  assert.equal(explainWriteError(bug, 'x', 'y'), bug);
  const mine = new TrellisError('conflict', 'exists');
  assert.equal(explainWriteError(mine, 'x', 'y'), mine);
  assert.equal(isWriteOnlyFailure(errno('ENOSPC')), true);
  assert.equal(isWriteOnlyFailure(errno('EACCES')), false);
});

test('a full disk: add says the chunk store is full, get says the destination is; both peers go on working', { skip: tmpfsMountsWork() ? false : 'needs root and tmpfs mounts', timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trellis-full-disk-'));
  const mounts: string[] = [];
  const peers: Peer[] = [];
  t.after(async () => {
    for (const p of peers) await p.stop();
    for (const m of mounts.reverse()) unmount(m);
    rmSync(root, { recursive: true, force: true });
  });
  const start = async (name: string, bootstrap: string[], chunksOnTmpfs?: string): Promise<Peer> => {
    const home = join(root, name);
    mkdirSync(home);
    createIdentity(home, name);
    if (chunksOnTmpfs) {
      mkdirSync(join(home, 'chunks'));
      assert.ok(mountTmpfs(join(home, 'chunks'), chunksOnTmpfs));
      mounts.push(join(home, 'chunks'));
    }
    const p = await Peer.start({ home, mdns: false, bootstrap, log: () => {} });
    peers.push(p);
    return p;
  };
  // Carol's chunk store holds 1 MiB.
  const a = await start('alice', []);
  const c = await start('carol', [a.status().addrs[0]], '1m');
  const ws = await a.createWorkspace('Disks');
  await c.join(await a.createInvite(ws.id, { role: 'participant' }));
  await waitFor(() => a.members(ws.id).length === 2 && a.members(ws.id).every((m) => m.online), 15_000, 'both online');

  const big = join(root, 'big.bin');
  writeFileSync(big, randomBytes(3 * 1024 * 1024));
  await assert.rejects(c.files.add(ws.id, big), (e: unknown) => e instanceof TrellisError && e.code === 'unavailable'
    && /^no space left on the disk of the chunk store \(.*carol.*chunks\): free some space, then add it again$/.test(e.message));
  assert.deepEqual(c.files.store.list(), [], 'the chunks of the failed add are not left taking the space');
  // A small file still goes in.
  const small = join(root, 'small.bin');
  writeFileSync(small, randomBytes(10_000));
  assert.equal((await c.files.add(ws.id, small)).added.length, 1);

  // Alice adds the big file; Carol gets it into a folder on a 1 MiB disk.
  await a.files.add(ws.id, big);
  await waitFor(() => c.files.list(ws.id).some((f) => f.name === 'big.bin'), 15_000, 'manifest at carol');
  const tiny = join(root, 'tiny');
  mkdirSync(tiny);
  assert.ok(mountTmpfs(tiny, '1m'));
  mounts.push(tiny);
  const dest = join(tiny, 'big.bin');
  await assert.rejects(c.files.get(ws.id, 'big.bin', dest), (e: unknown) => e instanceof TrellisError && e.code === 'unavailable'
    && e.message === `no space left on the disk of ${dest}: free some space, then run the same command again: it resumes from what was written`);
  // Elsewhere the same get works.
  const ok = await c.files.get(ws.id, 'big.bin', join(root, 'copy.bin'));
  assert.equal(ok.files.length, 1);
});

test('a full disk under the home: an upload through the API gets 503 and a sentence, not "internal error"', { skip: tmpfsMountsWork() ? false : 'needs root and tmpfs mounts', timeout: 60_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'trellis-full-uploads-'));
  createIdentity(home, 'alice');
  const uploads = join(home, 'uploads');
  mkdirSync(uploads);
  assert.ok(mountTmpfs(uploads, '1m'));
  const peer = await Peer.start({ home, mdns: false, log: () => {} });
  const server = await startApiServer({ peer, home, port: 0, log: () => {} });
  t.after(async () => {
    await server.close();
    await peer.stop();
    unmount(uploads);
    rmSync(home, { recursive: true, force: true });
  });
  await peer.createWorkspace('Team');
  const res = await fetch(`${server.url}/api/workspaces/Team/files/upload?name=big.bin`, {
    method: 'POST', headers: { authorization: `Bearer ${server.token}` }, body: randomBytes(3 * 1024 * 1024),
  });
  const body = await res.json() as { error: { code: string; message: string } };
  assert.equal(res.status, 503);
  assert.equal(body.error.code, 'unavailable');
  assert.match(body.error.message, /^no space left on the disk of the daemon's folder for uploads \(.*uploads\): free some space, then upload it again$/);
  // The failed upload's bytes were removed (the 1 MiB disk would still be full): a small one works.
  const small = await fetch(`${server.url}/api/workspaces/Team/files/upload?name=small.bin`, {
    method: 'POST', headers: { authorization: `Bearer ${server.token}` }, body: randomBytes(1000),
  });
  assert.equal(small.status, 201);
});
