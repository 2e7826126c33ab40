/**
 * GET /api/devices beyond the store's id-ordered cursor pages (issue 15, additive, no new column or index this
 * round): filter by a rollout's execution state ("rejected in r1", "queued"), by "at risk if host H rotated to pin
 * K", a total count, sorting and offset paging (so a page can link back). Computed from the existing rows: the
 * matching devices are read in id order (at most SCAN_LIMIT), then filtered, sorted and sliced. Past the limit
 * the answer says `totalCapped: true`.
 */
import type { DeviceFilter, DeviceRow } from '../registry/rows';
import { rotationReadiness } from '../rotation-gate/rotation-readiness';
import type { ApiDeps } from './api-deps';
import { GatewayError } from './gateway-error';

export const SCAN_LIMIT = 100_000;
const CHUNK = 1000;

export const DEVICE_SORTS = ['deviceId', 'lastSeen', 'verifiedSeq', 'installedSeq', 'firmware', 'online'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

export interface ScanQuery {
  readonly filter: DeviceFilter;
  readonly rollout?: string | undefined;
  /** Execution states in `rollout` (comma-separated), e.g. REJECTED,TIMED_OUT. */
  readonly execState?: string | undefined;
  readonly atRiskHost?: string | undefined;
  readonly atRiskPin?: string | undefined;
  readonly sort: DeviceSort;
  readonly order: 'asc' | 'desc';
  readonly offset: number;
  readonly limit: number;
}

export interface ScanResult {
  readonly items: DeviceRow[];
  readonly total: number;
  readonly totalCapped: boolean;
  readonly offset: number;
  readonly nextOffset: number | null;
  readonly prevOffset: number | null;
  /** The execution of each listed device in `rollout` (state kind, wave, code), when filtered by a rollout. */
  readonly executions: ReadonlyMap<string, { kind: string; wave: number; code: string | null }>;
}

const key = (d: DeviceRow, sort: DeviceSort): string | number => {
  switch (sort) {
    case 'deviceId':
      return d.id;
    case 'lastSeen':
      return d.lastSeen ?? -1;
    case 'verifiedSeq':
      return d.verifiedSeq;
    case 'installedSeq':
      return d.installedSeq;
    case 'firmware':
      return d.firmware ?? '';
    case 'online':
      return d.online ? 1 : 0;
  }
};

export async function scanDevices(deps: ApiDeps, q: ScanQuery, now: number): Promise<ScanResult> {
  // the narrowing sets first: devices of a rollout in some states, devices at risk for a pin
  let only: Set<string> | null = null;
  const executions = new Map<string, { kind: string; wave: number; code: string | null }>();
  if (q.rollout !== undefined) {
    const row = await deps.rollouts.get(q.rollout);
    if (row === undefined) throw GatewayError.notFound(`rollout "${q.rollout}"`);
    const states = q.execState === undefined ? null : new Set(q.execState.split(','));
    only = new Set();
    for (const e of await deps.rollouts.executions(q.rollout)) {
      if (states !== null && !states.has(e.state.kind)) continue;
      only.add(e.deviceId);
      executions.set(e.deviceId, { kind: e.state.kind, wave: e.wave, code: e.state.kind === 'REJECTED' ? e.state.code : null });
    }
  }
  if (q.atRiskHost !== undefined && q.atRiskPin !== undefined) {
    if (q.filter.fleet === undefined) throw new GatewayError('E_BAD_QUERY', 'atRiskHost/atRiskPin need a fleet');
    const r = await rotationReadiness(deps, { fleet: q.filter.fleet, host: q.atRiskHost, pin: q.atRiskPin, target: 95, limit: SCAN_LIMIT, now });
    const risky = new Set(r.devices.map((d) => d.deviceId));
    only = only === null ? risky : new Set([...only].filter((id) => risky.has(id)));
  }
  const rows: DeviceRow[] = [];
  let cursor: string | undefined;
  let capped = false;
  for (;;) {
    const page = await deps.devices.list(q.filter, CHUNK, cursor);
    for (const d of page.items) if (only === null || only.has(d.id)) rows.push(d);
    if (page.nextCursor === null) break;
    if (rows.length >= SCAN_LIMIT) {
      capped = true;
      break;
    }
    cursor = page.nextCursor;
  }
  const dir = q.order === 'desc' ? -1 : 1;
  rows.sort((a, b) => {
    const x = key(a, q.sort);
    const y = key(b, q.sort);
    if (x !== y) return (x < y ? -1 : 1) * dir;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; // stable: id breaks ties
  });
  const items = rows.slice(q.offset, q.offset + q.limit);
  return {
    items,
    total: rows.length,
    totalCapped: capped,
    offset: q.offset,
    nextOffset: q.offset + q.limit < rows.length ? q.offset + q.limit : null,
    prevOffset: q.offset > 0 ? Math.max(0, q.offset - q.limit) : null,
    executions,
  };
}
