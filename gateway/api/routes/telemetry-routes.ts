import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';
import { reportsQuery, telemetryQuery } from '../schemas';

const DAY_MS = 86_400_000;

export function telemetryRoutes(routes: RouteTable, deps: ApiDeps): void {
  // series and report lists tolerate a little lag: they read from the replica when PINGW_DATABASE_READ_URL is set
  const { clock } = deps;
  const telemetry = deps.registry.reads.telemetry;

  routes.add(
    {
      method: 'get',
      path: '/api/telemetry', response: contract.common.telemetry,
      role: 'viewer',
      summary: 'Pin validation reports per time bucket: [{t (ms), ok, mismatch, failOpen}] (gateway receive time)',
      query: telemetryQuery,
    },
    async (c, { query }) => {
      const since = query.since === undefined ? clock.now() - DAY_MS : query.since >= 1e12 ? query.since : query.since * 1000;
      return c.json(
        await telemetry.series({
          ...(query.fleet === undefined ? {} : { fleet: query.fleet }),
          ...(query.host === undefined ? {} : { host: query.host }),
          bucketMs: query.bucketSeconds * 1000,
          sinceMs: since,
        }),
      );
    },
  );

  routes.add(
    { method: 'get', path: '/api/reports', response: contract.common.reports, role: 'viewer', summary: 'The last pin validation reports, with the pins each host served', query: reportsQuery },
    async (c, { query }) =>
      c.json(
        await telemetry.lastReports({
          ...(query.fleet === undefined ? {} : { fleet: query.fleet }),
          ...(query.host === undefined ? {} : { host: query.host }),
          limit: query.limit,
        }),
      ),
  );
}
