import type { PinSetJson } from '../../shared/index';
import { INSTALLED_NONE, INSTALLED_UNKNOWN } from '../registry/installed-keys';
import type { CoverageRepo, PinSetRepo } from '../registry/repositories';
import type { PinSetRow } from '../registry/rows';
import { pinSetView } from '../registry/pinset-views';
import type { PinSetViews } from '../registry/pinset-views';
import type { FleetSets, SetWithPorts } from './drift-rules';

function withPorts(row: Pick<PinSetRow, 'json'>): SetWithPorts {
  const view = pinSetView(row);
  const ports = new Map((row.json as PinSetJson).hosts.map((h) => [h.name.toLowerCase(), h.port]));
  return { ...view, hosts: view.hosts.map((h) => {
    const port = ports.get(h.name);
    return port === undefined ? h : { ...h, port };
  }) };
}

/**
 * The current pin sets of every fleet (issue 16 §2): each set some device of the fleet has installed now (from
 * the coverage counters, never a pass over devices), plus the fleet's newest issued set (pins published ahead of
 * a rollout are "current" too: the rotation they prepare is the one drift watch must not flag).
 */
export async function currentSets(deps: { pinsets: PinSetRepo; coverage: CoverageRepo; views: PinSetViews }): Promise<FleetSets[]> {
  const out: FleetSets[] = [];
  // store calls are awaited: the registry is moving to an asynchronous storage contract (SQLite + PostgreSQL)
  for (const fleet of (await deps.pinsets.latestSeqByFleet()).keys()) {
    const sets = new Map<string, SetWithPorts>();
    for (const s of await deps.coverage.installedSets(fleet)) {
      if (s.key === INSTALLED_NONE || s.key === INSTALLED_UNKNOWN || s.count === 0) continue;
      const v = await deps.views.bySha256(s.key);
      if (v !== null) sets.set(s.key, withPorts(v.row));
    }
    const newest = (await deps.pinsets.list(fleet))[0];
    if (newest !== undefined) sets.set(newest.sha256, withPorts(newest));
    out.push({ fleet, sets: [...sets.values()] });
  }
  return out;
}
