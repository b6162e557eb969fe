// GET /api/capabilities: the routes this daemon serves, as "METHOD /path/:param" strings. The web
// UI offers a feature only when the daemon has its route (tools and files grow release by
// release), and can tell without probing routes and causing errors.
import { route, type Route } from './router.ts';

export function capabilityRoutes(served: readonly Route[]): Route[] {
  const list = () => [...served, ...self].map((r) => `${r.method} ${r.path}`).sort();
  const self: Route[] = [route({ method: 'GET', path: '/api/capabilities', handle: () => ({ routes: list() }) })];
  return self;
}
