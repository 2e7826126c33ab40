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

function Facts(props: { items: [string, string | number][] }) {
  return (
    <dl class="stats">
      {props.items.map(([label, value]) => (
        <div>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

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
      <section class="panel" id="security-totals">
        <h2>Totals</h2>
        <Facts items={COLUMNS.map((c) => [c.label, r.totals[c.key]])} />
        {b !== null ? (
          <Facts items={[['Closed at accept (address in back-off)', b.closedAtAccept], ['Dropped (client gone before its check)', b.droppedGone], ['Refused (check queue full)', b.refusedBusy], ['Credential checks run', b.checksRun]]} />
        ) : null}
        {r.telemetry !== null ? <Facts items={[['Reports stored', r.telemetry.accepted], ['Duplicate reports', r.telemetry.duplicate], ['Reports over the cap', r.telemetry.overLimit]]} /> : null}
      </section>
      <section class="panel panel-table" id="security-fleets">
        <h2>Per fleet</h2>
        <Table
          head={['Fleet', 'Devices', ...COLUMNS.map((c) => c.label)]}
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
          head={['Device', 'Fleet', ...COLUMNS.map((c) => c.label), 'Last', 'From']}
          empty="No device has a refusal counted."
          rows={r.devices.map((d) => (
            <tr data-device={d.deviceId}>
              <td>
                {d.fleet === null ? (
                  <span class="mono">{d.deviceId}</span>
                ) : (
                  <a class="mono" href={`/devices/${encodeURIComponent(d.deviceId)}`}>
                    {d.deviceId}
                  </a>
                )}{' '}
                {d.suspiciousTakeovers > 0 ? <Badge kind="bad">two holders</Badge> : null}
              </td>
              <td>{d.fleet ?? <span class="muted">not enrolled</span>}</td>
              {cells(d)}
              <td>
                {d.lastWhat} <Ago at={d.lastAt} now={props.view.now} />
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
