/**
 * What a pin is to its host, so the pages can say more than a truncated hash (issue 15): the key the host serves
 * now (seen in the devices' latest pin reports), the new key (pinned by the fleet's newest set, not by the one
 * before it), a backup (pinned by both, not served), or a rotation already recorded to it.
 */
import type { PinSetSummary, Report, Rotation } from '../api/api-types';

export type PinRole = 'served' | 'new' | 'backup' | 'rotated';

export const PIN_ROLE_LABEL: Record<PinRole, string> = {
  served: 'served now',
  new: 'new key',
  backup: 'backup',
  rotated: 'rotation recorded',
};

function pinsOf(set: PinSetSummary | undefined, host: string): Set<string> {
  const h = set?.hosts.find((x) => x.name.toLowerCase() === host.toLowerCase());
  return new Set(h?.pins ?? []);
}

/** Served pins per host from reports (newest first: the latest report of each host wins). */
export function servedPins(reports: readonly Report[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of reports) {
    const host = r.host.toLowerCase();
    if (!out.has(host) && r.servedPins.length > 0) out.set(host, new Set(r.servedPins));
  }
  return out;
}

/** The roles of `pin` for `host` (newest pin set first in `pinsets`). */
export function pinRoles(
  host: string,
  pin: string,
  ctx: { pinsets: readonly PinSetSummary[]; served: ReadonlyMap<string, ReadonlySet<string>>; rotations: readonly Rotation[] },
): PinRole[] {
  const roles: PinRole[] = [];
  const h = host.toLowerCase();
  if (ctx.served.get(h)?.has(pin) === true) roles.push('served');
  const newest = pinsOf(ctx.pinsets[0], h);
  const previous = pinsOf(ctx.pinsets[1], h);
  if (newest.has(pin) && ctx.pinsets.length > 1 && !previous.has(pin)) roles.push('new');
  else if (newest.has(pin) && !roles.includes('served') && previous.has(pin)) roles.push('backup');
  if (ctx.rotations.some((r) => r.host.toLowerCase() === h && r.pin === pin)) roles.push('rotated');
  return roles;
}
