/** Device search: filter by fleet, class, state, installed seq, online, free text; cursor paging. */
import type { Device, DeviceQuery, Page } from '../api/api-types';
import { Badge, Table } from '../components/table';
import { ago } from '../components/format';
import { ErrorAlert, FleetSelect } from '../components/forms';
import { Layout, PageHeader, type View } from './layout';

export const PAGE_SIZES = [25, 50, 100] as const;
/** GET /api/devices `state` filter values (the gateway's device lifecycle, not rollout execution states). */
export const DEVICE_STATES = ['active', 'flagged', 'decommissioned'];

/** The filter as it appears in the URL (all strings, '' = any). */
export interface DeviceFilter {
  readonly fleet: string;
  readonly deviceClass: string;
  readonly state: string;
  readonly seq: string;
  readonly online: string;
  readonly q: string;
  readonly limit: number;
  readonly cursor: string;
}

export function filterFromQuery(get: (k: string) => string | undefined): DeviceFilter {
  const limit = Number(get('limit'));
  const online = get('online') ?? '';
  const seq = get('seq') ?? '';
  return {
    fleet: get('fleet') ?? '',
    deviceClass: get('deviceClass') ?? '',
    state: get('state') ?? '',
    seq: /^\d{1,15}$/.test(seq) ? seq : '',
    online: online === 'true' || online === 'false' ? online : '',
    q: (get('q') ?? '').slice(0, 200),
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : 25,
    cursor: get('cursor') ?? '',
  };
}

export function toApiQuery(f: DeviceFilter): DeviceQuery {
  const q: DeviceQuery = { limit: f.limit };
  if (f.fleet !== '') q.fleet = f.fleet;
  if (f.deviceClass !== '') q.deviceClass = f.deviceClass;
  if (f.state !== '') q.state = f.state;
  if (f.seq !== '') q.seq = f.seq;
  if (f.online === 'true' || f.online === 'false') q.online = f.online;
  if (f.q !== '') q.q = f.q;
  if (f.cursor !== '') q.cursor = f.cursor;
  return q;
}

export function devicesUrl(f: DeviceFilter, cursor: string): string {
  const p = new URLSearchParams();
  for (const k of ['fleet', 'deviceClass', 'state', 'seq', 'online', 'q'] as const) if (f[k] !== '') p.set(k, f[k]);
  if (f.limit !== 25) p.set('limit', String(f.limit));
  if (cursor !== '') p.set('cursor', cursor);
  const s = p.toString();
  return s === '' ? '/devices' : `/devices?${s}`;
}

export function OnlineBadge(props: { online: boolean }) {
  return props.online ? <Badge kind="ok">online</Badge> : <Badge kind="muted">offline</Badge>;
}

export function DevicesPage(props: { view: View; page: Page<Device>; filter: DeviceFilter; fleets: string[]; error?: string }) {
  const f = props.filter;
  return (
    <Layout title="Devices" section="devices" view={props.view}>
      <PageHeader title="Devices" subtitle="Every registered device, its installed and verified pin-set seq." />
      <form method="get" action="/devices" class="filters" id="device-filters">
        <label>
          Search
          <input type="search" name="q" value={f.q} placeholder="device id or firmware" />
        </label>
        <FleetSelect fleets={props.fleets} selected={f.fleet} />
        <label>
          Class
          <input type="text" name="deviceClass" value={f.deviceClass} size={10} />
        </label>
        <label>
          State
          <select name="state">
            <option value="">any</option>
            {DEVICE_STATES.map((s) => (
              <option value={s} selected={s === f.state}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Seq
          <input type="number" name="seq" value={f.seq} min="0" class="input-narrow" />
        </label>
        <label>
          Online
          <select name="online">
            <option value="">any</option>
            <option value="true" selected={f.online === 'true'}>
              online
            </option>
            <option value="false" selected={f.online === 'false'}>
              offline
            </option>
          </select>
        </label>
        <label>
          Per page
          <select name="limit">
            {PAGE_SIZES.map((n) => (
              <option value={String(n)} selected={n === f.limit}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-primary">
          Apply
        </button>
        <a href="/devices" class="btn btn-link">
          Reset
        </a>
      </form>
      <ErrorAlert error={props.error} />
      <div id="device-list" class="panel panel-table" data-live>
        <Table
          class="table table-devices"
          head={['Device', 'Fleet', 'Class', 'Firmware', 'Online', 'Installed seq', 'Verified seq', 'State', 'Last seen']}
          phoneHidden={[2, 3, 4, 6, 9]}
          empty="No devices match these filters."
          rows={props.page.items.map((d) => (
            <tr data-device={d.deviceId}>
              <td>
                <a class="mono" href={`/devices/${encodeURIComponent(d.deviceId)}`}>
                  {d.deviceId}
                </a>
              </td>
              <td>{d.fleet}</td>
              <td>{d.deviceClass}</td>
              <td class="firmware">{d.firmware ?? '—'}</td>
              <td>
                <OnlineBadge online={d.online} />
              </td>
              <td class="num installed-seq">{d.installedSeq}</td>
              <td class="num verified-seq">{d.verifiedSeq}</td>
              <td>
                {d.decommissioned ? (
                  <Badge kind="muted">decommissioned</Badge>
                ) : d.flaggedReason !== null ? (
                  <span title={d.flaggedReason}>
                    <Badge kind="bad">flagged</Badge>
                  </span>
                ) : (
                  <Badge kind="ok">active</Badge>
                )}
              </td>
              <td class="muted">{ago(d.lastSeen, props.view.now)}</td>
            </tr>
          ))}
        />
        <nav class="pager" aria-label="pages">
          {f.cursor !== '' ? <a href={devicesUrl(f, '')}>« First page</a> : <span class="muted">First page</span>}
          <span class="muted">{props.page.items.length} shown</span>
          {props.page.nextCursor !== null ? (
            <a href={devicesUrl(f, props.page.nextCursor)} rel="next" class="next-page">
              Next page »
            </a>
          ) : (
            <span class="muted">last page</span>
          )}
        </nav>
      </div>
    </Layout>
  );
}
