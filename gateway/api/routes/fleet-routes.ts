import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';

export function fleetRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add({ method: 'get', path: '/api/fleets', response: contract.common.fleets, role: 'viewer', summary: 'Fleets with device counts and their latest seq' }, async (c) => {
    const latest = await deps.pinsets.latestSeqByFleet();
    const fleets = new Map((await deps.devices.fleets()).map((f) => [f.fleet, { ...f, latestSeq: latest.get(f.fleet) ?? 0 }]));
    for (const [fleet, seq] of latest) if (!fleets.has(fleet)) fleets.set(fleet, { fleet, devices: 0, online: 0, latestSeq: seq });
    return c.json([...fleets.values()].sort((a, b) => a.fleet.localeCompare(b.fleet)));
  });
}
