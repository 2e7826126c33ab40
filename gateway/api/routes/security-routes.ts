import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';
import { z } from 'zod';
import { zeroCounts } from '../../security/security-ledger';

const securityQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }).strict();

/** GET /api/security: the security counters per fleet and for the devices most affected (issue 17). */
export function securityRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/security',
      response: contract.security.security,
      role: 'viewer',
      query: securityQuery,
      summary: 'Security counters since start: log-in failures and throttling, takeovers, refused publishes, malformed payloads, reports over the cap, flags — per fleet and the devices most affected (limit, default 20); admission, report and API refusal figures',
    },
    async (c, { query }) => {
      const snap = deps.security === undefined
        ? { since: 0, totals: zeroCounts(), fleets: [], devices: [], devicesAffected: 0 }
        : await deps.security.ledger.snapshot(query.limit);
      const t = deps.telemetryLimits?.();
      return c.json({
        ...snap,
        broker: deps.admission?.stats() ?? null,
        telemetry: t === undefined ? null : { accepted: t['accepted'] ?? 0, duplicate: t['duplicate'] ?? 0, overLimit: t['overLimit'] ?? 0 },
        apiRefused: Object.fromEntries(deps.security?.metrics.apiRefusedByCode ?? []),
      });
    },
  );
}
