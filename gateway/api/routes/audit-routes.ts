import * as contract from '../../../api-contract/index';
import type { AuditEntry } from '../../registry/rows';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';
import { auditQuery } from '../schemas';

/** Rows read per filtered request at most: a filter that matches rarely answers a partial page and a cursor to go on. */
const SCAN_LIMIT = 20_000;
const CHUNK = 500;

export function auditRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/audit', response: contract.common.auditPage,
      role: 'viewer',
      summary: 'Audit log, newest first; filters actor, action (exact, or a prefix ending in "."), target',
      query: auditQuery,
    },
    async (c, { query }) => {
      const { actor, action, target } = query;
      if (actor === undefined && action === undefined && target === undefined) return c.json(await deps.registry.reads.audit.list(query.limit, query.cursor));
      const matches = (e: AuditEntry) =>
        (actor === undefined || e.actor === actor) &&
        (target === undefined || e.target === target) &&
        (action === undefined || (action.endsWith('.') ? e.action.startsWith(action) : e.action === action));
      // Filtered from the newest-first pages of the log (no new index this round, issue 15): scan in chunks until
      // the page is full or SCAN_LIMIT rows were read; the cursor then says where to go on.
      const items: AuditEntry[] = [];
      let cursor = query.cursor;
      let scanned = 0;
      let end = false;
      while (items.length < query.limit && !end && scanned < SCAN_LIMIT) {
        const page = await deps.registry.reads.audit.list(CHUNK, cursor);
        let i = 0;
        for (; i < page.items.length && items.length < query.limit; i++) {
          const e = page.items[i] as AuditEntry;
          cursor = e.id;
          if (matches(e)) items.push(e);
        }
        scanned += i;
        // the log's end is reached only when this chunk was read to its end and it was the last one
        end = i === page.items.length && page.nextCursor === null;
      }
      return c.json({ items, nextCursor: end || cursor === undefined ? null : String(cursor) });
    },
  );
}
