/** Read-only pages: fleet overview, telemetry, audit log. */
import { Hono } from 'hono';
import { ApiError } from '../api/api-client';
import type { Readiness, Report, TelemetryPoint } from '../api/api-types';
import type { DashboardEnv } from '../session/env';
import { AuditPage } from '../pages/audit';
import { FleetOverviewPage, readinessKey, type FleetView } from '../pages/fleet-overview';
import { TelemetryPage, WINDOWS } from '../pages/telemetry';
import { orElse, viewFor, type RouteDeps } from './route-deps';
import { pinRoles, servedPins } from '../components/pin-role';

export function pageRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard } = deps;
  const app = new Hono<DashboardEnv>();

  app.get('/', guard, async (c) => {
    const api = c.get('api');
    const [fleets, rollouts] = await Promise.all([api.fleets(), orElse(api.rollouts(), [])]);
    const views: FleetView[] = await Promise.all(
      fleets.map(async (fleet): Promise<FleetView> => {
        const base = { fleet, rollouts: rollouts.filter((r) => r.fleet === fleet.fleet) };
        let coverage;
        try {
          coverage = await api.coverage(fleet.fleet);
        } catch (e) {
          return { ...base, coverage: [], readiness: new Map(), error: `coverage unavailable: ${(e as Error).message}` };
        }
        const readiness = new Map<string, Readiness | null>();
        const [pinsets, reports] = await Promise.all([
          orElse(api.pinsets(fleet.fleet), []),
          orElse(api.reports({ fleet: fleet.fleet, limit: 50 }), []),
          ...coverage.map(async (row) => {
            const r = await orElse(api.readiness(fleet.fleet, { host: row.host, pin: row.pin, limit: 1 }), null);
            readiness.set(readinessKey(row.host, row.pin), r);
          }),
        ]);
        const served = servedPins(reports);
        const roles = new Map(coverage.map((row) => [readinessKey(row.host, row.pin), pinRoles(row.host, row.pin, { pinsets, served, rotations: [] })]));
        return { ...base, coverage, readiness, error: null, roles };
      }),
    );
    return c.html(<FleetOverviewPage view={viewFor(c, clock)} fleets={views} />);
  });

  app.get('/telemetry', guard, async (c) => {
    const api = c.get('api');
    const fleet = c.req.query('fleet') ?? '';
    const host = (c.req.query('host') ?? '').trim().slice(0, 253);
    const window = WINDOWS.find((w) => w.id === c.req.query('window')) ?? WINDOWS[0];
    const since = Math.floor(clock.now() / 1000) - window.seconds;
    const scope = { ...(fleet !== '' ? { fleet } : {}), ...(host !== '' ? { host } : {}) };
    let points: TelemetryPoint[] = [];
    let reports: Report[] = [];
    let error: string | undefined;
    const fleets = await orElse(api.fleets(), []);
    try {
      [points, reports] = await Promise.all([api.telemetry({ ...scope, bucketSeconds: window.bucket, since }), api.reports({ ...scope, limit: 50 })]);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 400) throw e;
      error = `The gateway refused this filter: ${e.message}`;
    }
    return c.html(
      <TelemetryPage
        view={viewFor(c, clock)}
        filter={{ fleet, host, window }}
        fleets={fleets.map((f) => f.fleet)}
        points={points}
        reports={reports}
        {...(error !== undefined ? { error } : {})}
      />,
      error === undefined ? 200 : 400,
    );
  });

  app.get('/audit', guard, async (c) => {
    const get = (k: string, max: number) => (c.req.query(k) ?? '').trim().slice(0, max);
    const filter = { actor: get('actor', 200), action: get('action', 100), target: get('target', 300), cursor: get('cursor', 20) };
    const q = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== ''));
    const page = await c.get('api').audit({ limit: 50, ...q });
    return c.html(<AuditPage view={viewFor(c, clock)} page={page} filter={filter} />);
  });

  return app;
}
