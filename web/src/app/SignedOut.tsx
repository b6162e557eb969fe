// Shown when the daemon does not know this page: it was opened without the start link, or the
// daemon restarted (a new token, so the old session is gone).
import { Logo } from '../components/Logo.tsx';

export function SignedOut() {
  return (
    <main className="center-screen">
      <section className="card onboarding" aria-labelledby="signed-out-title">
        <Logo />
        <h1 id="signed-out-title">Open Trellis from its start link</h1>
        <p className="muted">
          This page has no session with your Trellis daemon. Open the <code>web http://…/#token=…</code> link
          that <code>trellis start</code> printed in its terminal; it signs this browser in once.
        </p>
        <p className="fine-print">If the daemon was restarted, its new link replaces the old one.</p>
      </section>
    </main>
  );
}
