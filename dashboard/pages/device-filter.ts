/**
 * The devices page's filter as it appears in the URL, and its translation to GET /api/devices. Besides the
 * device's own fields: its execution state in a rollout ("rejected in r1", "queued"), "at risk if host H rotated
 * to pin K", sorting and offset paging with a total (issue 15).
 */
import type { DeviceQuery } from '../api/api-types';

export const PAGE_SIZES = [25, 50, 100] as const;
/** GET /api/devices `state` filter values (the gateway's device lifecycle, not rollout execution states). */
export const DEVICE_STATES = ['active', 'flagged', 'decommissioned'];
export const EXEC_STATES = ['QUEUED', 'DELIVERED', 'APPLIED', 'VERIFIED', 'REJECTED', 'TIMED_OUT', 'SUPERSEDED', 'DECOMMISSIONED'];
export const SORTS = [
  ['deviceId', 'device id'],
  ['lastSeen', 'last seen'],
  ['verifiedSeq', 'verified seq'],
  ['installedSeq', 'installed seq'],
  ['firmware', 'firmware'],
  ['online', 'online'],
] as const;

/** The filter as it appears in the URL (all strings, '' = any). */
export interface DeviceFilter {
  readonly fleet: string;
  readonly deviceClass: string;
  readonly state: string;
  readonly seq: string;
  readonly online: string;
  readonly q: string;
  readonly rollout: string;
  readonly execState: string;
  readonly atRiskHost: string;
  readonly atRiskPin: string;
  readonly sort: string;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly offset: number;
}

const TEXT_KEYS = ['fleet', 'deviceClass', 'state', 'seq', 'online', 'q', 'rollout', 'execState', 'atRiskHost', 'atRiskPin', 'sort'] as const;

export function filterFromQuery(get: (k: string) => string | undefined): DeviceFilter {
  const limit = Number(get('limit'));
  const online = get('online') ?? '';
  const seq = get('seq') ?? '';
  const offset = Number(get('offset') ?? '0');
  const sort = get('sort') ?? '';
  const execState = get('execState') ?? '';
  return {
    fleet: (get('fleet') ?? '').slice(0, 200),
    deviceClass: (get('deviceClass') ?? '').slice(0, 200),
    state: get('state') ?? '',
    seq: /^\d{1,15}$/.test(seq) ? seq : '',
    online: online === 'true' || online === 'false' ? online : '',
    q: (get('q') ?? '').slice(0, 200),
    rollout: (get('rollout') ?? '').slice(0, 64),
    execState: execState.split(',').every((s) => EXEC_STATES.includes(s)) ? execState : '',
    atRiskHost: (get('atRiskHost') ?? '').slice(0, 253),
    atRiskPin: (get('atRiskPin') ?? '').slice(0, 100),
    sort: SORTS.some(([k]) => k === sort) ? sort : '',
    order: get('order') === 'desc' ? 'desc' : 'asc',
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : 25,
    offset: Number.isInteger(offset) && offset > 0 ? Math.min(offset, 1_000_000) : 0,
  };
}

/** Always a scan with a total (the API's offset mode), so the page can show totals and link back. */
export function toApiQuery(f: DeviceFilter, page?: { limit: number; offset: number }): DeviceQuery {
  const q: DeviceQuery = { limit: page?.limit ?? f.limit, offset: page?.offset ?? f.offset, withTotal: 'true' };
  if (f.fleet !== '') q.fleet = f.fleet;
  if (f.deviceClass !== '') q.deviceClass = f.deviceClass;
  if (f.state !== '') q.state = f.state;
  if (f.seq !== '') q.seq = f.seq;
  if (f.online === 'true' || f.online === 'false') q.online = f.online;
  if (f.q !== '') q.q = f.q;
  if (f.rollout !== '') q.rollout = f.rollout;
  if (f.rollout !== '' && f.execState !== '') q.execState = f.execState;
  if (f.atRiskHost !== '' && f.atRiskPin !== '') {
    q.atRiskHost = f.atRiskHost;
    q.atRiskPin = f.atRiskPin;
  }
  if (f.sort !== '') q.sort = f.sort;
  if (f.order === 'desc') q.order = 'desc';
  return q;
}

export function devicesUrl(f: DeviceFilter, change: Partial<DeviceFilter> = {}, path = '/devices'): string {
  const g = { ...f, ...change };
  const p = new URLSearchParams();
  for (const k of TEXT_KEYS) if (g[k] !== '') p.set(k, g[k]);
  if (g.order === 'desc') p.set('order', 'desc');
  if (g.limit !== 25) p.set('limit', String(g.limit));
  if (g.offset > 0) p.set('offset', String(g.offset));
  const s = p.toString();
  return s === '' ? path : `${path}?${s}`;
}
