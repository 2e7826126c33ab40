import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import { findingsQuery } from '../lifecycle-schemas';
import type { RouteTable } from '../route-table';

/** Drift and CT findings (issue 16 §2, §3): open and recently resolved, and the watches' runs. */
export function findingsRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { findings, drift } = deps;

  routes.add(
    { method: 'get', path: '/api/findings', response: contract.lifecycle.findings, role: 'viewer', summary: 'Open and resolved findings of the drift and CT watches (critical first)', query: findingsQuery },
    (c, { query }) => {
      const filter = {
        ...(query.kind === undefined ? {} : { source: query.kind }),
        ...(query.fleet === undefined ? {} : { fleet: query.fleet }),
        ...(query.host === undefined ? {} : { host: query.host }),
      };
      return c.json({ ...findings.list(filter), lastRuns: { drift: drift.lastRun(), ct: deps.ct.lastRun() } });
    },
  );

  routes.add({ method: 'get', path: '/api/drift-watch', response: contract.lifecycle.driftWatch, role: 'viewer', summary: 'The last drift watch run: every host probed, the key it served' }, (c) =>
    c.json({ lastRun: drift.lastRun() }),
  );

  routes.add(
    { method: 'post', path: '/api/drift-watch/run', response: contract.lifecycle.driftRun, role: 'operator', summary: 'Run the drift watch now (joins a run in progress); answers the run' },
    async (c, { actor }) => {
      const run = await drift.run('on-demand');
      await deps.audit.append(actor, 'driftwatch.run', null, { raised: run.raised, cleared: run.cleared, open: run.open });
      return c.json(run);
    },
  );
}
