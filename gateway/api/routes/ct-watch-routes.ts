import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import { ctCertificatesQuery, mismatchesQuery } from '../lifecycle-schemas';
import type { RouteTable } from '../route-table';

/** Certificate Transparency watch (issue 16 §3) and the classification of mismatch telemetry with it. */
export function ctWatchRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { ct, telemetry, audit } = deps;

  routes.add({ method: 'get', path: '/api/ct-watch', response: contract.lifecycle.ctWatch, role: 'viewer', summary: 'CT watch: configured logs, the last run, certificates kept' }, async (c) => {
    await ct.refresh(); // the certificates any replica saved (issue 13)
    return c.json({ configured: ct.configured, lastRun: (await deps.findings.lastRuns()).ct, certificates: ct.certificates().length });
  });

  routes.add(
    { method: 'post', path: '/api/ct-watch/run', response: contract.lifecycle.ctRun, role: 'operator', summary: 'Follow the CT logs now (get-sth, get-entries, Merkle check); answers the run' },
    async (c, { actor }) => {
      const run = await ct.run('on-demand');
      await audit.append(actor, 'ctwatch.run', null, { raised: run.raised, cleared: run.cleared, open: run.open });
      return c.json(run);
    },
  );

  routes.add(
    { method: 'get', path: '/api/ct-watch/certificates', response: contract.lifecycle.loggedCertificates, role: 'viewer', summary: 'Logged certificates for the names of the current pin sets (issuer, serial, dates, pin)', query: ctCertificatesQuery },
    async (c, { query }) => {
      await ct.refresh();
      return c.json(ct.certificates(query.host));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/ct-watch/mismatches',
      response: contract.lifecycle.mismatches,
      role: 'viewer',
      summary: 'Recent mismatch reports classified: served key logged for our name (likely our own rotation) or not (likely interception)',
      query: mismatchesQuery,
    },
    async (c, { query }) => {
      const scope = { ...(query.fleet === undefined ? {} : { fleet: query.fleet }), ...(query.host === undefined ? {} : { host: query.host }) };
      const reports = (await telemetry.lastReports({ ...scope, limit: query.limit })).filter((r) => r.result === 'mismatch');
      await ct.refresh(); // classified with the certificates any replica saved, not only this one's
      return c.json(
        reports.map((r) => {
          const k = ct.classify(r.host, r.servedPins);
          return { ...r, classification: k.class, certificates: k.certificates };
        }),
      );
    },
  );
}
