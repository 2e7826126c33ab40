import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';
import { auditQuery } from '../schemas';

export function auditRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add({ method: 'get', path: '/api/audit', role: 'viewer', summary: 'Audit log, newest first', query: auditQuery }, async (c, { query }) =>
    c.json(await deps.registry.reads.audit.list(query.limit, query.cursor)), // may lag: a replica (docs/postgres.md)
  );
}
