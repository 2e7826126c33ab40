import { INSTALLED_NONE, INSTALLED_UNKNOWN } from '../registry/installed-keys';
import type { CoverageRepo, DeviceRepo } from '../registry/repositories';
import type { PinSetViews } from '../registry/pinset-views';
import { pinsForHost, readiness, wouldLoseConnectivity } from '../coverage/index';

/** Why a listed device would lose connectivity (or cannot be shown not to). */
export type AtRiskWhy =
  /** Its installed set enforces the host, does not pin the new key, and its fail-open date is not reached. */
  | 'pin-absent'
  /** It never said hello: the gateway does not know what it enforces (e.g. a set provisioned at the factory). */
  | 'never-said-hello'
  /** It holds a set the gateway never issued (flagged): unreadable, so it cannot be shown to be safe. */
  | 'unrecognised-set';

export interface RotationReadiness {
  fleet: string;
  host: string;
  pin: string;
  ready: boolean;
  /** Percent (2 decimals) of the fleet whose verified installed set pins `pin` for `host`. */
  coverage: number;
  verified: number;
  total: number;
  target: number;
  /** Devices that would (or may) lose connectivity if the host switched to the key now. */
  atRisk: number;
  /** atRisk split by reason. */
  atRiskBy: Record<AtRiskWhy, number>;
  /**
   * Of atRisk, the devices offline now: no update reaches them before they reconnect, so for a switch planned at
   * a later time (`now` = T) they are the ones that will fail for sure (issue 16 §5).
   */
  atRiskOffline: number;
  devices: { deviceId: string; online: boolean; installedSeq: number; why: AtRiskWhy }[];
  nextCursor: string | null;
}

/**
 * SPEC §8 rotation gate, from counters only: one pass over the fleet's distinct installed and verified sets
 * (fleet_set_counts), never over its devices. Coverage honours includeSubdomains parents (pinsForHost), like a
 * device does. The at-risk list pages over the device rows of the risky set keys only (index on
 * (fleet, counted_installed, id)).
 *
 * Conservative by design: a device the gateway cannot show to be safe is at risk — never said hello, or holds a
 * set the gateway never issued. A device that said hello with nothing installed is safe (it validates with the
 * ordinary CAs, SPEC §8 needs a pinned key to break).
 */
export async function rotationReadiness(
  deps: { devices: DeviceRepo; coverage: CoverageRepo; views: PinSetViews },
  q: { fleet: string; host: string; pin: string; target: number; limit: number; cursor?: string | undefined; now: number },
): Promise<RotationReadiness> {
  // every read here is on the primary (never PINGW_DATABASE_READ_URL): a lagging replica could say "ready" too early
  const { coverage, views } = deps;
  const host = q.host.toLowerCase();
  let verified = 0;
  for (const s of await coverage.verifiedSets(q.fleet)) {
    const v = await views.bySha256(s.key);
    if (v !== null && pinsForHost(v.view, host)?.pins.includes(q.pin) === true) verified += s.count;
  }
  let total = 0;
  const atRiskBy: Record<AtRiskWhy, number> = { 'pin-absent': 0, 'never-said-hello': 0, 'unrecognised-set': 0 };
  const risky = new Map<string, AtRiskWhy>();
  for (const s of await coverage.installedSets(q.fleet)) {
    total += s.count;
    let why: AtRiskWhy | null = null;
    if (s.key === INSTALLED_UNKNOWN) why = 'never-said-hello';
    else if (s.key !== INSTALLED_NONE) {
      const v = await views.bySha256(s.key);
      if (v === null) why = 'unrecognised-set';
      else if (wouldLoseConnectivity(v.view, host, q.pin, q.now)) why = 'pin-absent';
    }
    if (why === null) continue;
    risky.set(s.key, why);
    atRiskBy[why] += s.count;
  }
  const atRisk = atRiskBy['pin-absent'] + atRiskBy['never-said-hello'] + atRiskBy['unrecognised-set'];
  const r = readiness({ verified, fleetSize: total, atRisk, target: q.target });

  let devices: RotationReadiness['devices'] = [];
  let nextCursor: string | null = null;
  let atRiskOffline = 0;
  if (risky.size > 0) {
    const keys = [...risky.keys()];
    atRiskOffline = await deps.devices.countOfflineWithInstalledKeys(q.fleet, keys);
    const rows = await deps.devices.withInstalledKeys(q.fleet, keys, q.cursor ?? '', q.limit + 1);
    devices = rows.slice(0, q.limit).map((d) => ({
      deviceId: d.id,
      online: d.online,
      installedSeq: d.installedSeq,
      why: risky.get(d.countedInstalled) ?? 'pin-absent',
    }));
    if (rows.length > q.limit) nextCursor = devices[devices.length - 1]?.deviceId ?? null;
  }
  return { fleet: q.fleet, host, pin: q.pin, ...r, verified, total, atRiskBy, atRiskOffline, devices, nextCursor };
}
