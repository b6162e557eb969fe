// First run: the daemon has no identity yet. One question: the name others will see.
import { useState, type FormEvent } from 'react';
import { api } from '../api/endpoints.ts';
import { errorText } from '../api/client.ts';
import { Logo } from '../components/Logo.tsx';

export function Onboarding({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === '') return;
    setBusy(true);
    setError(null);
    try {
      await api.createIdentity(name.trim());
      onDone();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <main className="center-screen">
      <form className="card onboarding" onSubmit={submit} aria-labelledby="onboarding-title">
        <Logo />
        <h1 id="onboarding-title">Welcome to Trellis</h1>
        <p className="muted">
          Workspaces shared directly between people's devices: no server in the middle, everything
          signed and encrypted. First, how should others see you?
        </p>
        <label className="field">
          <span>Your display name</span>
          <input
            name="name"
            autoFocus
            required
            maxLength={200}
            autoComplete="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. Alice Martin"
          />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="button primary wide" disabled={busy || name.trim() === ''}>
          {busy ? 'Creating your identity…' : 'Continue'}
        </button>
        <p className="fine-print">
          This creates a key pair on this device. Your name travels with your key to the workspaces you join.
        </p>
      </form>
    </main>
  );
}
