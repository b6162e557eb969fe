// We were removed from this workspace (or left it): it no longer syncs, and says so plainly.
import { navigate } from '../lib/router.ts';

export function RemovedNotice({ name, id }: { name: string; id: string }) {
  return (
    <div className="page-pad">
      <section className="card removed-notice" role="alert" aria-labelledby={`removed-${id}`}>
        <h1 id={`removed-${id}`}>You are no longer a member of “{name}”</h1>
        <p className="muted">
          A manager removed you from this workspace, or you left it. Your device stopped syncing it and
          cannot read anything written there from now on.
        </p>
        <button type="button" className="button" onClick={() => navigate({})}>Back to my workspaces</button>
      </section>
    </div>
  );
}
