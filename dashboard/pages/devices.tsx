/**
 * Device search: filter by fleet, class, state, installed seq, online, free text, execution state in a rollout and
 * "at risk for pin K"; sorting, totals, previous/next pages, CSV and JSON export of the whole result (issue 15).
 */
import type { DevicePage } from '../api/api-types';
import { Ago } from '../components/ago';
import { describeCode } from '../components/error-codes';
import { Badge, Table } from '../components/table';
import { ErrorAlert, FleetSelect } from '../components/forms';
import { DEVICE_STATES, devicesUrl, EXEC_STATES, PAGE_SIZES, SORTS, type DeviceFilter } from './device-filter';
import { Layout, PageHeader, type View } from './layout';
import { DeviceLink } from '../components/device-link';

export { filterFromQuery, toApiQuery, devicesUrl, type DeviceFilter } from './device-filter';

export function OnlineBadge(props: { online: boolean }) {
  return props.online ? <Badge kind="ok">online</Badge> : <Badge kind="muted">offline</Badge>;
}

function SortHeader(props: { f: DeviceFilter; sort: string; label: string }) {
  const { f } = props;
  const current = (f.sort === '' ? 'deviceId' : f.sort) === props.sort;
  const order = current && f.order === 'asc' ? 'desc' : 'asc';
  return (
    <a href={devicesUrl(f, { sort: props.sort, order, offset: 0 })} class="sort" {...(current ? { 'aria-sort': f.order === 'asc' ? 'ascending' : 'descending' } : {})}>
      {props.label}
      {current ? (f.order === 'asc' ? ' ▲' : ' ▼') : ''}
    </a>
  );
}

export function DevicesPage(props: { view: View; page: DevicePage; filter: DeviceFilter; fleets: string[]; error?: string }) {
  const f = props.filter;
  const page = props.page;
  const byRollout = f.rollout !== '';
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
          Rollout
          <input type="text" name="rollout" value={f.rollout} size={6} placeholder="r1" />
        </label>
        <label>
          …in state
          <select name="execState">
            <option value="">any</option>
            {EXEC_STATES.map((s) => (
              <option value={s} selected={s === f.execState}>
                {s.toLowerCase().replace('_', ' ')}
              </option>
            ))}
            <option value="REJECTED,TIMED_OUT" selected={f.execState === 'REJECTED,TIMED_OUT'}>
              failed (rejected or timed out)
            </option>
          </select>
        </label>
        <label>
          At risk if host
          <input type="text" name="atRiskHost" value={f.atRiskHost} size={14} placeholder="api.example.com" />
        </label>
        <label>
          …rotated to pin
          <input type="text" name="atRiskPin" value={f.atRiskPin} size={14} placeholder="sha256/…" />
        </label>
        <label>
          Sort by
          <select name="sort">
            {SORTS.map(([k, label]) => (
              <option value={k} selected={k === (f.sort === '' ? 'deviceId' : f.sort)}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order
          <select name="order">
            <option value="asc" selected={f.order === 'asc'}>
              ascending
            </option>
            <option value="desc" selected={f.order === 'desc'}>
              descending
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
        <p class="totals">
          <b class="device-total">{page.total ?? page.items.length}</b>
          {page.totalCapped ? '+' : ''} device{page.total === 1 ? '' : 's'} match
          {page.total !== null && page.total > 0 ? ` · showing ${f.offset + 1}–${f.offset + page.items.length}` : ''} · export{' '}
          <a href={devicesUrl(f, { offset: 0 }, '/devices/export.csv')} class="export-csv">
            CSV
          </a>{' '}
          ·{' '}
          <a href={devicesUrl(f, { offset: 0 }, '/devices/export.json')} class="export-json">
            JSON
          </a>
        </p>
        <Table
          class="table table-devices"
          head={['Device', 'Fleet', 'Class', 'Firmware', 'Online', 'Installed seq', 'Verified seq', byRollout ? `In ${f.rollout}` : 'State', 'Last seen']}
          headCells={{ 1: <SortHeader f={f} sort="deviceId" label="Device" />, 4: <SortHeader f={f} sort="firmware" label="Firmware" />, 5: <SortHeader f={f} sort="online" label="Online" />, 6: <SortHeader f={f} sort="installedSeq" label="Installed seq" />, 7: <SortHeader f={f} sort="verifiedSeq" label="Verified seq" />, 9: <SortHeader f={f} sort="lastSeen" label="Last seen" /> }}
          phoneHidden={[2, 3, 4, 6, 9]}
          empty="No devices match these filters."
          rows={page.items.map((d) => (
            <tr data-device={d.deviceId}>
              <td>
                <DeviceLink id={d.deviceId} />
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
                {byRollout && d.execution !== null ? (
                  <span class="exec-state" title={d.execution.code !== null ? describeCode(d.execution.code) : undefined}>
                    <Badge kind={d.execution.kind === 'VERIFIED' ? 'ok' : d.execution.kind === 'REJECTED' || d.execution.kind === 'TIMED_OUT' ? 'bad' : 'info'}>
                      {d.execution.kind.toLowerCase().replace('_', ' ')}
                    </Badge>{' '}
                    <span class="small muted">
                      wave {d.execution.wave + 1}
                      {d.execution.code !== null ? ` · ${d.execution.code}` : ''}
                    </span>
                  </span>
                ) : d.decommissioned ? (
                  <Badge kind="muted">decommissioned</Badge>
                ) : d.flaggedReason !== null ? (
                  <span title={d.flaggedReason}>
                    <Badge kind="bad">flagged</Badge>
                  </span>
                ) : (
                  <Badge kind="ok">active</Badge>
                )}
              </td>
              <td class="muted">
                <Ago at={d.lastSeen} now={props.view.now} />
              </td>
            </tr>
          ))}
        />
        <nav class="pager" aria-label="pages">
          {page.prevOffset !== null ? (
            <a href={devicesUrl(f, { offset: page.prevOffset })} rel="prev" class="prev-page">
              « Previous page
            </a>
          ) : (
            <span class="muted">first page</span>
          )}
          {page.nextOffset !== null ? (
            <a href={devicesUrl(f, { offset: page.nextOffset })} rel="next" class="next-page">
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
