// The page frame: the workspace sidebar (a drawer in narrow windows) and the main area; the page's
// call lives around both, so it goes on from one workspace to another.
import { useEffect, useState } from 'react';
import { Icon } from '../components/Icon.tsx';
import { useRoute } from '../lib/router.ts';
import { CallProvider } from '../workspace/calls/call-context.tsx';
import { WorkspaceView } from '../workspace/WorkspaceView.tsx';
import { Home } from './Home.tsx';
import { Sidebar } from './Sidebar.tsx';

export function Shell() {
  const route = useRoute();
  const [navOpen, setNavOpen] = useState(false);

  // Choosing a workspace in the drawer closes it.
  useEffect(() => { setNavOpen(false); }, [route.workspace]);

  return (
    <CallProvider>
      <div className={navOpen ? 'shell nav-open' : 'shell'}>
        <a className="skip-link" href="#main">Skip to content</a>
        <button
          type="button"
          className="nav-toggle icon-button"
          aria-label={navOpen ? 'Close the workspace list' : 'Open the workspace list'}
          aria-expanded={navOpen}
          aria-controls="sidebar"
          onClick={() => setNavOpen((o) => !o)}
        >
          <Icon name="menu" size={20} />
        </button>
        <Sidebar />
        {navOpen && <div className="nav-scrim" aria-hidden="true" onClick={() => setNavOpen(false)} />}
        <main id="main" className="main" tabIndex={-1}>
          {route.workspace ? <WorkspaceView key={route.workspace} id={route.workspace} tab={route.tab} /> : <Home />}
        </main>
      </div>
    </CallProvider>
  );
}
