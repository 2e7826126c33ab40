import * as contract from '../../../api-contract/index';
import type { PinSetJson } from '../../../shared/index';
import { coveragePercent, DEFAULT_COVERAGE_TARGET } from '../../coverage/index';
import { rotationReadiness } from '../../rotation-gate/rotation-readiness';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import type { RouteTable } from '../route-table';
import { readinessQuery, rotationBody, rotationsQuery } from '../schemas';

export function coverageRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { coverage, pinsets, rotations, audit, hub, clock } = deps;

  routes.add(
    {
      method: 'get',
      path: '/api/fleets/:fleet/coverage', response: contract.common.coverage,
      role: 'viewer',
      summary: 'Coverage per host entry and pin (SPEC §8): verified devices / fleet size incl. offline, from counters',
    },
    async (c) => {
      const fleet = c.req.param('fleet') ?? '';
      const total = await coverage.fleetSize(fleet);
      const counts = new Map<string, { host: string; pin: string; count: number }>(await (await coverage.pinCounts(fleet)).map((r) => [`${r.host}\u0000${r.pin}`, r]));
      // the pins of the fleet's newest set appear even before any device verified them (0 %)
      const newest = (await pinsets.list(fleet))[0];
      for (const h of newest === undefined ? [] : (newest.json as PinSetJson).hosts) {
        for (const pin of h.pins) {
          const key = `${h.name.toLowerCase()}\u0000${pin}`;
          if (!counts.has(key)) counts.set(key, { host: h.name.toLowerCase(), pin, count: 0 });
        }
      }
      const rows = [...counts.values()]
        .sort((a, b) => (a.host === b.host ? (a.pin < b.pin ? -1 : 1) : a.host < b.host ? -1 : 1))
        .map((r) => ({ host: r.host, pin: r.pin, verified: r.count, total, percent: coveragePercent(r.count, total) }));
      return c.json(rows);
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/fleets/:fleet/rotation-readiness', response: contract.common.readiness,
      role: 'viewer',
      summary: 'Can host H switch to the key of pin K now? ready/coverage/target and the devices at risk (paged)',
      query: readinessQuery,
    },
    async (c, { query }) => {
      const { at, ...rest } = query;
      const now = at === undefined ? clock.now() : at * 1000;
      return c.json({ ...(await rotationReadiness(deps, { fleet: c.req.param('fleet') ?? '', ...rest, now })), at: Math.floor(now / 1000) });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/rotations', response: contract.common.rotationRecorded,
      role: 'operator',
      summary: 'Record that host H rotates to the key of pin K: 422 E_GATE_NOT_MET unless ready, or forced with a reason',
      body: rotationBody,
      status: 201,
    },
    async (c, { body, actor }) => {
      const target = body.target ?? DEFAULT_COVERAGE_TARGET;
      const r = await rotationReadiness(deps, { fleet: body.fleet, host: body.host, pin: body.pin, target, limit: 0, now: clock.now() });
      const summary = { ready: r.ready, coverage: r.coverage, verified: r.verified, total: r.total, target, atRisk: r.atRisk, atRiskBy: r.atRiskBy };
      const subject = `${body.fleet}/${r.host}`;
      if (!r.ready && body.force !== true) {
        await audit.append(actor, 'rotation.refused', subject, { pin: body.pin, ...summary });
        throw new GatewayError(
          'E_GATE_NOT_MET',
          `coverage of ${body.pin} for ${r.host} is ${r.coverage} %, below the target ${target} % (${r.atRisk} devices at risk); force with a reason to record it anyway`,
          { readiness: summary },
        );
      }
      const forced = !r.ready;
      const reason = body.reason?.trim() ?? null;
      const row = await rotations.insert({
        fleet: body.fleet,
        host: r.host,
        pin: body.pin,
        forced,
        reason: reason === '' ? null : reason,
        coverage: Math.round(r.coverage * 100),
        target: Math.round(target * 100),
        atRisk: r.atRisk,
        recordedAt: clock.now(),
        recordedBy: actor,
      });
      await audit.append(actor, forced ? 'rotation.forced' : 'rotation.recorded', subject, { id: row.id, pin: body.pin, reason: row.reason, ...summary });
      hub.publish({ type: 'rotation', fleet: body.fleet, host: r.host, pin: body.pin, forced });
      return c.json({ id: row.id, recorded: true, forced, fleet: row.fleet, host: row.host, pin: row.pin, reason: row.reason, recordedAt: row.recordedAt, readiness: summary }, 201);
    },
  );

  routes.add({ method: 'get', path: '/api/rotations', response: contract.common.rotations, role: 'viewer', summary: 'Recorded rotations, newest first', query: rotationsQuery }, async (c, { query }) => {
    const filter = { ...(query.fleet === undefined ? {} : { fleet: query.fleet }), ...(query.host === undefined ? {} : { host: query.host }) };
    return c.json(
      (await deps.registry.reads.rotations.list(filter, query.limit)).map((r) => ({ ...r, coverage: r.coverage / 100, target: r.target / 100 })),
    );
  });
}
