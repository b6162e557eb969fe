// A tiny client-side router over the History API: /, /w/<workspace>, /w/<workspace>/<tab>. The
// daemon answers every such path with index.html (src/daemon/static.ts), so links and reloads work.
import { useEffect, useState } from 'react';

export interface Route {
  workspace?: string;
  tab?: string;
}

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return ''; } });
  if (parts[0] === 'w' && parts[1]) return { workspace: parts[1], ...(parts[2] ? { tab: parts[2] } : {}) };
  return {};
}

export function routePath(r: Route): string {
  if (!r.workspace) return '/';
  return `/w/${encodeURIComponent(r.workspace)}${r.tab ? `/${encodeURIComponent(r.tab)}` : ''}`;
}

const listeners = new Set<() => void>();

export function navigate(r: Route, replace = false): void {
  const path = routePath(r);
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}
