/** The security page (issue 17): the gateway's security counters per fleet and the devices most affected. */
import { Hono } from 'hono';
import { fetchSecurity } from '../api/security-client';
import type { DashboardEnv } from '../session/env';
import { SecurityPage } from '../pages/security';
import { viewFor, type RouteDeps } from './route-deps';

export function securityRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  app.get('/security', deps.guard, async (c) => {
    const report = await fetchSecurity(c.get('api'), 25);
    return c.html(<SecurityPage view={viewFor(c, deps.clock)} report={report} />);
  });
  return app;
}
