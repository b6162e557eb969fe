// Start-up: trade the token from the start link for a session cookie, then find out whether this
// device has an identity (onboarding) and load who we are.
import { useEffect, useState } from 'react';
import { ApiError, errorText, onUnauthorized, openSession } from '../api/client.ts';
import { api } from '../api/endpoints.ts';
import type { PeerStatus } from '../api/types.ts';
import { ToastProvider } from '../components/Toasts.tsx';
import { AppProvider } from './app-state.tsx';
import { Onboarding } from './Onboarding.tsx';
import { Shell } from './Shell.tsx';
import { SignedOut } from './SignedOut.tsx';

type Phase =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'onboarding' }
  | { kind: 'ready'; status: PeerStatus }
  | { kind: 'error'; message: string };

/** The token from `#token=…`, removed from the address bar at once (and so from history). */
function takeToken(): string | undefined {
  const m = /(?:^#|&)token=([0-9a-f]{64})(?:&|$)/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return m[1];
}

export function Boot() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  async function load(): Promise<void> {
    try {
      const id = await api.identity();
      if (!id.exists) { setPhase({ kind: 'onboarding' }); return; }
      setPhase({ kind: 'ready', status: await api.status() });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setPhase({ kind: 'signed-out' });
      else setPhase({ kind: 'error', message: errorText(err) });
    }
  }

  useEffect(() => {
    const token = takeToken();
    void (async () => {
      if (token !== undefined) {
        try { await openSession(token); } catch { /* a stale link: load() shows the signed-out page */ }
      }
      await load();
    })();
    return onUnauthorized(() => setPhase({ kind: 'signed-out' }));
  }, []);

  switch (phase.kind) {
    case 'loading': return <main className="center-screen" aria-busy="true"><p className="muted">Connecting to your Trellis daemon…</p></main>;
    case 'signed-out': return <SignedOut />;
    case 'onboarding': return <Onboarding onDone={() => void load()} />;
    case 'error': return (
      <main className="center-screen">
        <section className="card onboarding">
          <h1>Cannot reach Trellis</h1>
          <p className="error" role="alert">{phase.message}</p>
          <button type="button" className="button primary" onClick={() => void load()}>Try again</button>
        </section>
      </main>
    );
    case 'ready': return (
      <ToastProvider>
        <AppProvider initialStatus={phase.status}>
          <Shell />
        </AppProvider>
      </ToastProvider>
    );
  }
}
