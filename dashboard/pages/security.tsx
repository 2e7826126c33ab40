/**
 * Security (issue 17 "count it where operators see it"): what the gateway refused since it started — log-ins with a
 * wrong credential or throttled, credentials used from two connections, refused publishes, malformed payloads,
 * reports over the per-device cap — per fleet, and the devices most affected (each linking to its device page).
 */
import type { SecurityReport } from '../api/security-client';
import { Ago } from '../components/ago';
import { fmtTime } from '../components/format';
import { Badge, Table } from '../components/table';
import { Layout, PageHeader, type View } from './layout';
import { DeviceLink } from '../components/device-link';

type Counts = SecurityReport['totals'];

const COLUMNS: { key: keyof Counts; label: string }[] = [
  { key: 'authFailures', label: 'Wrong credential' },
  { key: 'throttled', label: 'Throttled' },
  { key: 'takeovers', label: 'Takeovers' },
  { key: 'suspiciousTakeovers', label: 'Two holders' },
  { key: 'refusedPublishes', label: 'Refused publishes' },
  { key: 'malformed', label: 'Malformed' },
  { key: 'reportsOverLimit', label: 'Reports over cap' },
  { key: 'flags', label: 'Flags' },
];

const cells = (c: Counts) => COLUMNS.map((col) => <td class={`num sec-${col.key}`}>{c[col.key]}</td>);

/** What the device's last refusal was, in the page's words (the ledger names a counter, or "kind CODE"). */
const lastWords = (what: string) => COLUMNS.find((c) => c.key === what)?.label.toLowerCase() ?? (what.startsWith('flagged') ? 'flagged' : what);

export function SecurityPage(props: { view: View; report: SecurityReport }) {
  const r = props.report;
  const b = r.broker;
  const refusedApi = Object.entries(r.apiRefused).sort((x, y) => y[1] - x[1]);
  return (
    <Layout title="Security" section="security" view={props.view}>
      <PageHeader
        title="Security"
        subtitle={<>What this gateway refused since it started ({fmtTime(r.since)}); counters are per gateway process. The same figures are on /metrics.</>}
      />
      <section class="panel panel-table" id="security-totals">
        <h2>Totals</h2>
        <Table
          head={['Refused', 'Since start']}
          empty="—"
          rows={[
            ...COLUMNS.map((c): [string, number] => [c.label, r.totals[c.key]]),
            ...(b === null ? [] : ([['Closed at accept (address in back-off)', b.closedAtAccept], ['Dropped (client gone before its check)', b.droppedGone], ['Refused (check queue full)', b.refusedBusy], ['Credential checks run', b.checksRun]] as [string, number][])),
            ...(r.telemetry === null ? [] : ([['Duplicate reports (not stored)', r.telemetry.duplicate], ['Reports over the cap (not stored)', r.telemetry.overLimit]] as [string, number][])),
          ].map(([label, n]) => (
            <tr>
              <td>{label}</td>
              <td class="num">{n}</td>
            </tr>
          ))}
        />
      </section>
      <section class="panel panel-table" id="security-fleets">
        <h2>Per fleet</h2>
        <Table
          head={['Fleet', 'Devices', ...COLUMNS.map((c) => c.label)]}
          phoneHidden={[6, 7, 8, 9]}
          empty="Nothing refused since the gateway started."
          rows={r.fleets.map((f) => (
            <tr data-fleet={f.fleet ?? ''}>
              <td>{f.fleet === null ? <span class="muted">not enrolled ids</span> : <a href={`/devices?fleet=${encodeURIComponent(f.fleet)}`}>{f.fleet}</a>}</td>
              <td class="num">{f.devices}</td>
              {cells(f)}
            </tr>
          ))}
        />
      </section>
      <section class="panel panel-table" id="security-devices">
        <h2>Devices most affected</h2>
        <p class="muted small">
          {r.devicesAffected} device ids with a refusal; two holders of one credential first, then by the number of refusals.
        </p>
        <Table
          head={['Device', 'Fleet', 'Log-ins refused', 'Takeovers', 'Messages refused', 'Flags', 'Last', 'From']}
          phoneHidden={[2, 8]}
          empty="No device has a refusal counted."
          rows={r.devices.map((d) => (
            <tr data-device={d.deviceId}>
              <td>
                {d.fleet === null ? (
                  <span class="mono">{d.deviceId}</span>
                ) : (
                  <DeviceLink id={d.deviceId} />
                )}{' '}
                {d.suspiciousTakeovers > 0 ? <Badge kind="bad">two holders</Badge> : null}
              </td>
              <td>{d.fleet ?? <span class="muted">not enrolled</span>}</td>
              <td class="num" title="wrong credential + throttled">
                {d.authFailures + d.throttled}
              </td>
              <td class="num">{d.takeovers}</td>
              <td class="num" title="refused publishes + malformed + reports over the cap">
                {d.refusedPublishes + d.malformed + d.reportsOverLimit}
              </td>
              <td class="num">{d.flags}</td>
              <td class="nowrap">
                {lastWords(d.lastWhat)} <Ago at={d.lastAt} now={props.view.now} />
              </td>
              <td class="mono">{d.lastFrom ?? '—'}</td>
            </tr>
          ))}
        />
      </section>
      <section class="panel panel-table" id="security-api">
        <h2>API requests refused</h2>
        <Table
          head={['Code', 'Requests']}
          empty="No API request refused."
          rows={refusedApi.map(([code, n]) => (
            <tr>
              <td class="mono">{code}</td>
              <td class="num">{n}</td>
            </tr>
          ))}
        />
      </section>
    </Layout>
  );
}
