// `trellis join` when the inviter is offline: the request is queued at a relay named in the code
// (src/relay/). Without --no-wait the command waits, saying so on stderr, until the inviter comes
// online and accepts it and the history has synced; with --no-wait it returns at once and the
// daemon completes the join in the background (also after a restart).
import type { ApiClient } from '../api-client.ts';
import { CliError, EXIT_FORBIDDEN, EXIT_USAGE } from '../cli-error.ts';
import { printJson, printLine, safeLine } from '../output.ts';

/** A direct join syncs the whole history before it answers: give it far longer than other calls. */
const JOIN_TIMEOUT_MS = 300_000;
const POLL_MS = 1000;

interface JoinAnswer { id: string; pending: boolean; relay?: string }
interface PendingJoin { workspace: string; name: string; state: 'queued' | 'joining' | 'refused' | 'expired'; relay?: string; since: number; reason?: string }

export interface JoinOptions { json?: boolean; wait: boolean; timeoutMs: number }

export async function runJoin(api: ApiClient, code: string, opts: JoinOptions): Promise<void> {
  const say = (line: string) => { if (!opts.json || process.stderr.isTTY) process.stderr.write(line + '\n'); };
  if (process.stderr.isTTY) say('joining and syncing the history; this can take a while...');
  const first = await api.post<JoinAnswer>('/api/joins', { code, wait: false }, { timeoutMs: JOIN_TIMEOUT_MS });
  const done = (id: string) => { if (opts.json) printJson({ id }); else printLine(`joined workspace ${id}`); };
  if (!first.pending) { done(first.id); return; }
  const relay = first.relay ? ` at relay ${first.relay.slice(0, 16)}` : '';
  if (!opts.wait) {
    if (opts.json) printJson({ id: first.id, pending: true, ...(first.relay ? { relay: first.relay } : {}) });
    else printLine(`the inviter is offline: your request is queued${relay}; the join completes when they accept it (the daemon keeps trying, also after a restart; see \`trellis workspace list\`)`);
    return;
  }
  say(`the inviter is offline: your request is queued${relay}; waiting until they or another manager of the workspace come online and accept it (up to ${Math.round(opts.timeoutMs / 60_000)} min; Ctrl-C stops waiting, the join then completes in the background)`);
  const deadline = Date.now() + opts.timeoutMs;
  let lastState = 'queued';
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const pending = (await api.get<PendingJoin[]>('/api/joins')).find((j) => j.workspace === first.id);
    if (!pending) {
      const mine = await api.get<{ id: string }[]>('/api/workspaces');
      if (mine.some((w) => w.id === first.id)) { done(first.id); return; }
      continue;
    }
    if (pending.state === 'refused' || pending.state === 'expired') throw new CliError(EXIT_FORBIDDEN, `the join did not complete: ${safeLine(pending.reason ?? pending.state)}`);
    if (pending.state !== lastState) {
      lastState = pending.state;
      if (pending.state === 'joining') say('accepted: syncing the history from the relay...');
    }
  }
  throw new CliError(EXIT_USAGE, 'the inviter has not accepted yet; the request stays queued and the daemon completes the join when they do (see `trellis workspace list`)');
}
