// Revoking an invitation, with real daemons: the inviter lists the codes it issued, revokes one,
// and a join with it fails with one clear line while another code still works; a second manager,
// who never saw the code, refuses it too (the revocation is in the workspace's shared state).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, eventually } from '../helpers/daemons.ts';
import type { InviteInfo } from '../../src/peer-api.ts';

function oneLine(r: { stderr: string }): void {
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, got: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('uninvite: a revoked code admits nobody, at the inviter or any other manager; the list shows what became of each', { timeout: 120_000 }, async (t) => {
  const a = await Daemon.create({ name: 'alice' });
  const b = await Daemon.create({ name: 'bob' });
  const c = await Daemon.create({ name: 'carol' });
  await Promise.all([a.start(), b.start(), c.start()]);
  t.after(async () => { await Promise.all([a.destroy(), b.destroy(), c.destroy()]); });
  await a.json('workspace', 'create', 'Team');

  assert.match((await a.cli('invitations', 'Team')).stdout, /no invitations issued/);
  const first = (await a.json<{ code: string }>('invite', 'Team')).code;
  const second = (await a.json<{ code: string }>('invite', 'Team', '--role', 'manager')).code;
  const listed = await a.json<InviteInfo[]>('invitations', 'Team');
  assert.equal(listed.length, 2);
  assert.deepEqual(listed.map((i) => i.state), ['open', 'open']);
  assert.deepEqual(listed.map((i) => i.role).sort(), ['manager', 'participant']);
  const participantInvite = listed.find((i) => i.role === 'participant')!;
  const managerInvite = listed.find((i) => i.role === 'manager')!;

  // Bad ids: one line, nothing revoked.
  for (const bad of ['xyz', '12']) {
    const r = await a.cli('uninvite', 'Team', bad);
    assert.equal(r.code, 1, r.stderr);
    oneLine(r);
  }
  const unknown = await a.cli('uninvite', 'Team', 'deadbeef');
  assert.equal(unknown.code, 1, unknown.stderr);
  oneLine(unknown);
  assert.match(unknown.stderr, /no invitation "deadbeef"/);

  // Bob joins with the manager invitation and becomes a manager; then Alice revokes the other one by a prefix.
  await b.json('join', second);
  const revoked = await a.json<InviteInfo>('uninvite', 'Team', participantInvite.id.slice(0, 10));
  assert.equal(revoked.id, participantInvite.id);
  assert.equal(revoked.state, 'revoked');
  const again = await a.cli('uninvite', 'Team', participantInvite.id);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /revoked already/);
  const used = await a.cli('uninvite', 'Team', managerInvite.id);
  assert.equal(used.code, 1, used.stderr);
  oneLine(used);
  assert.match(used.stderr, /used already, by bob: to undo it, remove the member/);

  // Carol tries the revoked code: refused with the reason, at the inviter.
  const refused = await c.cli('join', first);
  assert.notEqual(refused.code, 0, refused.stderr);
  oneLine(refused);
  assert.match(refused.stderr, /revoked/);
  const after = await a.json<InviteInfo[]>('invitations', 'Team');
  assert.deepEqual(after.map((i) => [i.role, i.state]).sort(), [['manager', 'used'], ['participant', 'revoked']]);
  assert.equal(after.find((i) => i.role === 'manager')!.usedByName, 'bob');
  const table = (await a.cli('invitations', 'Team')).stdout;
  assert.match(table, /participant\s+revoked/);
  assert.match(table, /manager\s+used\s+.*bob/);

  // The revocation is shared state: Bob, a manager who never saw the code, learns it is revoked
  // once synced (a chat message Alice sends after it is the marker), so he would refuse it too.
  await a.json('chat', 'send', 'Team', 'after the revocation');
  await eventually('bob has synced', () => b.json<unknown[]>('chat', 'log', 'Team'), (l) => l.length === 1);
  const bobsView = await b.cli('uninvite', 'Team', participantInvite.id);
  assert.equal(bobsView.code, 1, bobsView.stderr);
  assert.match(bobsView.stderr, /revoked already/);
});
