/** Pin-validation telemetry: a time-series chart of ok / mismatch / fail-open, and the last reports with served pins. */
import type { Report, TelemetryPoint } from '../api/api-types';
import { TelemetryChart } from '../components/chart';
import { Badge, Table } from '../components/table';
import { fmtTime, shortPin } from '../components/format';
import { ErrorAlert, FleetSelect } from '../components/forms';
import { Layout, PageHeader, type View } from './layout';
import { DeviceLink } from '../components/device-link';

export const WINDOWS = [
  { id: '1h', label: 'last hour', seconds: 3600, bucket: 60 },
  { id: '6h', label: 'last 6 hours', seconds: 6 * 3600, bucket: 300 },
  { id: '24h', label: 'last 24 hours', seconds: 86_400, bucket: 900 },
  { id: '7d', label: 'last 7 days', seconds: 7 * 86_400, bucket: 3600 },
] as const;
export type TelemetryWindow = (typeof WINDOWS)[number];

export interface TelemetryFilter {
  readonly fleet: string;
  readonly host: string;
  readonly window: TelemetryWindow;
}

const RESULT_BADGE: Record<string, string> = { ok: 'ok', mismatch: 'bad', 'fail-open': 'warn' };

export function TelemetryPage(props: {
  view: View;
  filter: TelemetryFilter;
  fleets: string[];
  points: TelemetryPoint[];
  reports: Report[];
  error?: string;
}) {
  const f = props.filter;
  return (
    <Layout title="Telemetry" section="telemetry" view={props.view}>
      <PageHeader
        title="Pin validation telemetry"
        subtitle="What devices see when they connect: ok, pin mismatch, or fail-open (enforcement expired, fell back to CA validation)."
      />
      <form method="get" action="/telemetry" class="filters">
        <FleetSelect fleets={props.fleets} selected={f.fleet} />
        <label>
          Host
          <input type="text" name="host" value={f.host} placeholder="any host" />
        </label>
        <label>
          Window
          <select name="window">
            {WINDOWS.map((w) => (
              <option value={w.id} selected={w.id === f.window.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-plain">
          Show
        </button>
      </form>
      <ErrorAlert error={props.error} />
      <div id="telemetry" data-live>
        <section class="panel">
          <h2>Reports per {f.window.bucket >= 3600 ? `${f.window.bucket / 3600} h` : `${f.window.bucket / 60} min`}</h2>
          <TelemetryChart points={props.points} bucketMs={f.window.bucket * 1000} title={`pin validation results, ${f.window.label}`} />
        </section>
        <section class="panel">
          <h2>Last reports</h2>
          <Table
            class="table table-reports"
            head={['Received', 'Device', 'Host', 'Result', 'Seq', 'Served pins']}
            phoneHidden={[3, 5, 6]}
            empty="No reports yet."
            rows={props.reports.map((r) => (
              <tr>
                <td class="muted nowrap">{fmtTime(r.receivedAt)}</td>
                <td>
                  <DeviceLink id={r.deviceId} />
                </td>
                <td>
                  {r.host}:{r.port}
                </td>
                <td>
                  <Badge kind={RESULT_BADGE[r.result] ?? 'muted'}>{r.result}</Badge>
                </td>
                <td class="num">{r.installedSeq}</td>
                <td class="mono small">
                  {r.servedPins.map((p) => (
                    <span class="pin" title={p}>
                      {shortPin(p)}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          />
        </section>
      </div>
    </Layout>
  );
}
