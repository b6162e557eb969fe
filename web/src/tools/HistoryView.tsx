// Who changed what, when: every entry of the workspace, newest first. Runs of changes by one person
// to one tool are grouped (typing a note writes an entry per burst of keystrokes). A tool's state
// can be shown as it was at any row (the daemon's time travel). "Verify" re-checks all of it and
// shows its fingerprint, to compare with another member's.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/endpoints.ts';
import type { HistoryRow, HistoryVerification, ToolInstance } from '../api/types.ts';
import { errorText } from '../api/client.ts';
import { usePeerEvents } from '../app/app-state.tsx';
import { Avatar } from '../components/Avatar.tsx';
import { dateTimeOf, relativeTime } from '../lib/format.ts';
import { REGISTRY_DOC_ID } from '../workspace/use-workspace.ts';
import { TimeTravel } from './TimeTravel.tsx';
import { useToolData } from './use-tool-data.ts';

const GROUP_MS = 2 * 60_000;
const SHOWN_GROUPS = 300;

interface Group { first: HistoryRow; last: HistoryRow; count: number }

export function HistoryView({ ws, tools }: { ws: string; tools: ToolInstance[] }) {
  const [filter, setFilter] = useState('');
  const { data, error, reload } = useToolData(ws, `history:${filter}`, () => api.history(ws, filter || undefined));
  // Every change adds history; while someone types, reload at most once a second.
  const timer = useRef<number | undefined>(undefined);
  usePeerEvents((e) => {
    if (e.workspace !== ws || !['chat', 'doc', 'members'].includes(e.type) || timer.current !== undefined) return;
    timer.current = window.setTimeout(() => { timer.current = undefined; reload(); }, 1000);
  });
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const [travel, setTravel] = useState<{ tool: ToolInstance; at: number } | null>(null);

  const groups = useMemo(() => {
    const out: Group[] = [];
    for (const row of [...(data ?? [])].reverse()) {
      const g = out[out.length - 1];
      if (g && g.first.author === row.author && g.first.kind === row.kind && g.first.tool === row.tool && g.last.time - row.time < GROUP_MS) {
        g.last = row;
        g.count++;
      } else {
        out.push({ first: row, last: row, count: 1 });
      }
    }
    return out;
  }, [data]);

  const toolOf = (id?: string) => tools.find((t) => t.id === id);

  return (
    <div className="history-view">
      <div className="row spread">
        <label className="field inline">
          <span>Show</span>
          <select value={filter} onChange={(e) => { setFilter(e.target.value); setTravel(null); }}>
            <option value="">Everything</option>
            {tools.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
          </select>
        </label>
        <span className="muted small">{data ? `${data.length} entr${data.length === 1 ? 'y' : 'ies'}` : ''}</span>
      </div>
      <VerifyHistory ws={ws} />
      {error && <p className="error" role="alert">{error}</p>}
      <div className={travel ? 'history-split' : ''}>
        <ol className="history-list">
          {groups.slice(0, SHOWN_GROUPS).map((g) => {
            const tool = toolOf(g.first.tool);
            return (
              <li key={g.first.id} className="history-row">
                <Avatar name={g.first.authorName || '?'} memberKey={g.first.author} size="sm" />
                <div className="history-text">
                  <span><strong>{g.first.authorName || 'unknown'}</strong> {describe(g, tool)}</span>
                  <time className="muted small" dateTime={new Date(g.first.time).toISOString()} title={dateTimeOf(g.first.time)}>{relativeTime(g.first.time)}</time>
                </div>
                {tool && tool.type !== 'discussion' && (
                  <button type="button" className="button subtle small" onClick={() => setTravel({ tool, at: g.first.time })}
                    aria-label={`Show ${tool.name} as it was ${dateTimeOf(g.first.time)}`}>View then</button>
                )}
              </li>
            );
          })}
          {data?.length === 0 && <li className="muted small">Nothing yet.</li>}
          {data === null && <li className="muted small">Loading…</li>}
        </ol>
        {travel && <TimeTravel ws={ws} tool={travel.tool} at={travel.at} onClose={() => setTravel(null)} />}
      </div>
    </div>
  );
}

function describe(g: Group, tool: ToolInstance | undefined): string {
  const n = g.count > 1 ? ` (${g.count} changes)` : '';
  if (g.first.kind === 'chat') return g.count > 1 ? `wrote ${g.count} chat messages` : 'wrote in the chat';
  if (g.first.kind === 'control') return `changed the membership${n}`;
  if (tool) return `edited ${tool.name}${n}`;
  // Documents that are no tool instance: the tool list, and tools' own data such as the file list.
  return g.first.tool === REGISTRY_DOC_ID ? `changed the tools${n}` : `updated shared files or settings${n}`;
}

/** Re-checks the whole history on the daemon (every signature and hash chain) and shows its fingerprint. */
function VerifyHistory({ ws }: { ws: string }) {
  const [result, setResult] = useState<HistoryVerification | string | null>(null);
  const [busy, setBusy] = useState(false);
  async function verify() {
    setBusy(true);
    try { setResult(await api.verifyHistory(ws)); } catch (err) { setResult(errorText(err)); } finally { setBusy(false); }
  }
  return (
    <section className="verify-history" aria-label="Verify history">
      <button type="button" className="button subtle small" disabled={busy} onClick={() => void verify()}>{busy ? 'Verifying…' : 'Verify history'}</button>
      {typeof result === 'string' && <p className="error small" role="alert">{result}</p>}
      {result && typeof result !== 'string' && (
        <div className="small" role="status">
          {result.problems.length === 0
            ? <p>Verified {result.entries} entries by {result.authors.length} author{result.authors.length === 1 ? '' : 's'}: every signature, hash chain and dependency holds.</p>
            : <p className="error">{result.problems.length} problem{result.problems.length === 1 ? '' : 's'}: {result.problems.map((p) => `${p.kind} (${p.detail})`).join('; ')}</p>}
          <p>Fingerprint <code className="mono" aria-label="History fingerprint">{result.fingerprint.match(/.{1,8}/g)!.join(' ')}</code></p>
          <p className="muted">A member whose history shows the same fingerprint holds the very same history.</p>
        </div>
      )}
    </section>
  );
}
