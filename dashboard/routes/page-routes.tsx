/** Read-only pages: fleet overview, devices, device detail, telemetry, audit log. */
import { Hono } from 'hono';
import { ApiError } from '../api/api-client';
import type { Device, Page, Readiness, Report, TelemetryPoint } from '../api/api-types';
import type { DashboardEnv } from '../session/env';
import { AuditPage } from '../pages/audit';
import { DeviceDetailPage } from '../pages/device-detail';
import { DevicesPage, filterFromQuery, toApiQuery } from '../pages/devices';
import { FleetOverviewPage, readinessKey, type FleetView } from '../pages/fleet-overview';
import { RotationPage } from '../pages/rotation-readiness';
import { TelemetryPage, WINDOWS } from '../pages/telemetry';
import { orElse, viewFor, type RouteDeps } from './route-deps';

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
        await Promise.all(
          coverage.map(async (row) => {
            const r = await orElse(api.readiness(fleet.fleet, { host: row.host, pin: row.pin, limit: 1 }), null);
            readiness.set(readinessKey(row.host, row.pin), r);
          }),
        );
        return { ...base, coverage, readiness, error: null };
      }),
    );
    return c.html(<FleetOverviewPage view={viewFor(c, clock)} fleets={views} />);
  });

  app.get('/rotation', guard, async (c) => {
    const fleet = c.req.query('fleet') ?? '';
    const host = c.req.query('host') ?? '';
    const pin = c.req.query('pin') ?? '';
    const cursor = c.req.query('cursor') ?? '';
    if (fleet === '' || host === '' || pin === '') return c.redirect('/', 303);
    const r = await c.get('api').readiness(fleet, { host, pin, limit: 50, ...(cursor !== '' ? { cursor } : {}) });
    return c.html(<RotationPage view={viewFor(c, clock)} t={{ fleet, host, pin, cursor }} r={r} />);
  });

  app.get('/devices', guard, async (c) => {
    const api = c.get('api');
    const filter = filterFromQuery((k) => c.req.query(k));
    const fleets = (await orElse(api.fleets(), [])).map((f) => f.fleet);
    let page: Page<Device> = { items: [], nextCursor: null };
    let error: string | undefined;
    try {
      page = await api.devices(toApiQuery(filter));
    } catch (e) {
      // A filter the gateway refuses (400) is the operator's typo, not an outage: show it next to the form.
      if (!(e instanceof ApiError) || e.status !== 400) throw e;
      error = `The gateway refused this filter: ${e.message}`;
    }
    return c.html(
      <DevicesPage view={viewFor(c, clock)} page={page} filter={filter} fleets={fleets} {...(error !== undefined ? { error } : {})} />,
      error === undefined ? 200 : 400,
    );
  });

  app.get('/devices/:id', guard, async (c) => {
    const d = await c.get('api').device(c.req.param('id'));
    return c.html(<DeviceDetailPage view={viewFor(c, clock)} d={d} />);
  });

  app.post('/devices/:id/:action{decommission|recommission}', deps.origin, guard, async (c) => {
    const id = c.req.param('id');
    const view = viewFor(c, clock);
    if (!view.canOperate) return c.text('operators only', 403);
    const reason = String((await c.req.parseBody())['reason'] ?? '').trim().slice(0, 500);
    const api = c.get('api');
    try {
      await api.deviceDecommission(id, c.req.param('action') === 'decommission', reason);
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) return c.html(<DeviceDetailPage view={view} d={await api.device(id)} error={e.message} />, 409);
      throw e;
    }
    return c.redirect(`/devices/${encodeURIComponent(id)}`, 303);
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
    const cursor = c.req.query('cursor') ?? '';
    const page = await c.get('api').audit({ limit: 50, ...(cursor !== '' ? { cursor } : {}) });
    return c.html(<AuditPage view={viewFor(c, clock)} page={page} cursor={cursor} />);
  });

  return app;
}
