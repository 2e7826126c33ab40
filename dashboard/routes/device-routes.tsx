/** Devices: the filtered, sorted list with totals, its CSV/JSON export, and one device. */
import { Hono } from 'hono';
import { ApiError } from '../api/api-client';
import type { Device, DevicePage } from '../api/api-types';
import { EXPORT_MAX_ROWS, toCsv } from '../components/csv';
import type { DashboardEnv } from '../session/env';
import { DeviceDetailPage } from '../pages/device-detail';
import { DevicesPage, filterFromQuery, toApiQuery } from '../pages/devices';
import { orElse, viewFor, type RouteDeps } from './route-deps';

const EXPORT_COLUMNS = ['deviceId', 'fleet', 'deviceClass', 'labels', 'firmware', 'online', 'lastSeen', 'installedSeq', 'verifiedSeq', 'keysetVersion', 'flagged', 'decommissioned', 'executionState', 'executionWave', 'executionCode'] as const;

function exportRow(d: Device): unknown[] {
  return [
    d.deviceId,
    d.fleet,
    d.deviceClass,
    d.labels.join(' '),
    d.firmware,
    d.online,
    d.lastSeen === null ? '' : new Date(d.lastSeen).toISOString(),
    d.installedSeq,
    d.verifiedSeq,
    d.keysetVersion,
    d.flaggedReason ?? '',
    d.decommissioned,
    d.execution?.kind ?? '',
    d.execution === null ? '' : d.execution.wave + 1,
    d.execution?.code ?? '',
  ];
}

export function deviceRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard } = deps;
  const app = new Hono<DashboardEnv>();

  app.get('/devices', guard, async (c) => {
    const api = c.get('api');
    const filter = filterFromQuery((k) => c.req.query(k));
    const fleets = (await orElse(api.fleets(), [])).map((f) => f.fleet);
    let page: DevicePage = { items: [], nextCursor: null, total: 0, totalCapped: false, nextOffset: null, prevOffset: null };
    let error: string | undefined;
    try {
      page = await api.devices(toApiQuery(filter));
    } catch (e) {
      // A filter the gateway refuses (400, or 404 for an unknown rollout) is the operator's typo, not an outage.
      if (!(e instanceof ApiError) || (e.status !== 400 && e.status !== 404)) throw e;
      error = `The gateway refused this filter: ${e.message}`;
    }
    return c.html(
      <DevicesPage view={viewFor(c, clock)} page={page} filter={filter} fleets={fleets} {...(error !== undefined ? { error } : {})} />,
      error === undefined ? 200 : 400,
    );
  });

  for (const format of ['csv', 'json'] as const) {
    app.get(`/devices/export.${format}`, guard, async (c) => {
      const api = c.get('api');
      const filter = filterFromQuery((k) => c.req.query(k));
      const items: Device[] = [];
      let offset: number | null = 0;
      let total: number | null = null;
      try {
        while (offset !== null && items.length < EXPORT_MAX_ROWS) {
          const page: DevicePage = await api.devices(toApiQuery(filter, { limit: 1000, offset }));
          items.push(...page.items);
          total = page.total;
          offset = page.nextOffset;
        }
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 400 && e.status !== 404)) throw e;
        return c.text(`The gateway refused this filter: ${e.message}`, 400);
      }
      c.header('content-disposition', `attachment; filename="devices.${format}"`);
      if (format === 'json') return c.json({ total, truncated: offset !== null, devices: items });
      c.header('content-type', 'text/csv; charset=utf-8');
      return c.body(toCsv(EXPORT_COLUMNS, items.map(exportRow)));
    });
  }

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

  return app;
}
