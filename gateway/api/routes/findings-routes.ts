import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import { acknowledgeFindingBody, findingsQuery } from '../lifecycle-schemas';
import type { RouteTable } from '../route-table';

/** Drift and CT findings (issue 16 §2, §3): open and recently resolved, and the watches' runs. */
export function findingsRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { findings, drift } = deps;

  routes.add(
    { method: 'get', path: '/api/findings', response: contract.lifecycle.findings, role: 'viewer', summary: 'Open and resolved findings of the drift and CT watches (critical first)', query: findingsQuery },
    async (c, { query }) => {
      const filter = {
        ...(query.kind === undefined ? {} : { source: query.kind }),
        ...(query.fleet === undefined ? {} : { fleet: query.fleet }),
        ...(query.host === undefined ? {} : { host: query.host }),
      };
      // both from the registry: the same answer on every replica, whichever ran the watches
      return c.json({ ...(await findings.list(filter)), lastRuns: await findings.lastRuns() });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/findings/acknowledge',
      response: contract.lifecycle.finding,
      role: 'operator',
      summary: 'Acknowledge an open finding {key}: recorded for every replica; it stays open until the watch no longer sees it',
      body: acknowledgeFindingBody,
    },
    async (c, { body, actor }) => {
      const f = await findings.acknowledge(body.key, actor);
      if (f === undefined) throw GatewayError.notFound(`open finding ${body.key}`);
      await deps.audit.append(actor, 'finding.acknowledge', f.key, { source: f.source, kind: f.kind, host: f.host });
      return c.json(f);
    },
  );

  routes.add({ method: 'get', path: '/api/drift-watch', response: contract.lifecycle.driftWatch, role: 'viewer', summary: 'The last drift watch run: every host probed, the key it served' }, async (c) =>
    c.json({ lastRun: (await findings.lastRuns()).drift }),
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
