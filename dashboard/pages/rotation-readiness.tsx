/**
 * The rotation gate for one (fleet, host, pin) (SPEC §8): ready / not ready against a target the operator may
 * change, why devices are at risk (the API's breakdown, so the headline and the rows tell the same story), the
 * devices that would lose connectivity (paged, exportable), what each pin is (served now, new key, backup), and
 * recording the rotation through the gate (rotation-record.tsx) with the fleet's rotation history.
 */
import type { Readiness, Rotation } from '../api/api-types';
import { CoverageBar } from '../components/bar';
import { ErrorAlert } from '../components/forms';
import { Badge, Table } from '../components/table';
import { pct, plural, shortPin } from '../components/format';
import { PIN_ROLE_LABEL, type PinRole } from '../components/pin-role';
import { Layout, PageHeader, type View } from './layout';
import { RecordRotation, RotationHistory } from './rotation-record';
import { rotationUrl, type RotationTarget } from './rotation-target';
import { DeviceLink } from '../components/device-link';

export { rotationUrl, type RotationTarget } from './rotation-target';

export const WHY: Record<string, string> = {
  'pin-absent': 'enforces the host without this pin',
  'never-said-hello': 'never said hello (installed set unknown)',
  'unrecognised-set': 'holds a set the gateway never issued',
};

/** What the operator can do about each reason. */
const REMEDY: Record<string, string> = {
  'pin-absent': 'they must verify a pin set that pins this key (roll one out)',
  'never-said-hello': 'the gateway does not know what they enforce until they connect once',
  'unrecognised-set': 'they hold a set the gateway never issued (flagged devices: investigate)',
};

export function PinRoles(props: { roles: readonly PinRole[] }) {
  return (
    <>
      {props.roles.map((r) => (
        <span class={`pin-role pin-role-${r}`}>{PIN_ROLE_LABEL[r]}</span>
      ))}
    </>
  );
}

function Headline(props: { t: RotationTarget; r: Readiness }) {
  const { r, t } = props;
  if (r.total === 0) return <p class="gate-verdict" data-gate="empty"><Badge kind="muted">no devices</Badge> This fleet has no devices: there is nothing to measure.</p>;
  const reasons = Object.entries(r.atRiskBy).filter(([, n]) => n > 0);
  const of = r.total !== null && r.verified !== null ? ` (${r.verified} of ${r.total})` : '';
  return (
    <>
      <p class="gate-verdict" data-gate={r.ready ? 'ready' : 'not-ready'}>
        {r.ready ? <Badge kind="ok">ready</Badge> : <Badge kind="warn">not ready</Badge>}{' '}
        {r.ready
          ? `Coverage ${pct(r.coverage)}${of} reached the ${pct(r.target)} target.`
          : `Coverage ${pct(r.coverage)}${of} is below the ${pct(r.target)} target.`}
      </p>
      <CoverageBar percent={r.coverage} target={r.target} reached={r.ready} label={`coverage of ${shortPin(t.pin)}`} />
      <p class={r.atRisk > 0 ? 'at-risk' : 'muted'}>
        {plural(r.atRisk, 'device')} would lose connectivity if {t.host} rotated to this key now
        {reasons.length > 0 ? ':' : '.'}
      </p>
      {reasons.length > 0 ? (
        <ul class="risk-breakdown">
          {reasons.map(([why, n]) => (
            <li data-why={why}>
              <b>{n}</b> {WHY[why] ?? why}: {REMEDY[why] ?? ''}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

export function RotationPage(props: {
  view: View;
  t: RotationTarget;
  r: Readiness;
  roles: readonly PinRole[];
  rotations: Rotation[];
  notice?: { kind: 'ok' | 'error'; text: string };
}) {
  const { t, r, view } = props;
  const target = t.target ?? r.target;
  const recorded = props.rotations.find((x) => x.host.toLowerCase() === t.host.toLowerCase() && x.pin === t.pin);
  return (
    <Layout title={`Rotation gate · ${t.host}`} section="overview" view={view}>
      <PageHeader
        title={`Rotate ${t.host}?`}
        subtitle={
          <>
            fleet <b>{t.fleet}</b> · new key <span class="mono" title={t.pin}>{shortPin(t.pin)}</span> <PinRoles roles={props.roles} />
          </>
        }
      />
      {props.notice !== undefined ? (
        props.notice.kind === 'error' ? <ErrorAlert error={props.notice.text} /> : <p class="alert alert-ok notice" role="status">{props.notice.text}</p>
      ) : null}
      {recorded !== undefined ? (
        <p class="alert alert-info rotation-recorded">
          A rotation of {recorded.host} to this key was recorded{recorded.forced ? ' (forced past the gate)' : ''} by {recorded.recordedBy}.
        </p>
      ) : null}
      <form method="get" action="/rotation" class="filters">
        <input type="hidden" name="fleet" value={t.fleet} />
        <input type="hidden" name="host" value={t.host} />
        <input type="hidden" name="pin" value={t.pin} />
        <label>
          Coverage target (%)
          <input type="number" name="target" min="0.01" max="100" step="0.01" value={String(target)} />
        </label>
        <button type="submit" class="btn btn-plain">
          Apply
        </button>
      </form>
      <div id="rotation" data-live>
        <section class="panel">
          <Headline t={t} r={r} />
        </section>
        <section class="panel panel-table">
          <Table
            head={['Device at risk', 'Why', 'Online', 'Installed seq']}
            empty="No device is at risk."
            rows={r.devices.map((d) => (
              <tr data-device={d.deviceId}>
                <td>
                  <DeviceLink id={d.deviceId} />
                </td>
                <td>{d.why === null ? '—' : (WHY[d.why] ?? d.why)}</td>
                <td>{d.online === null ? '—' : d.online ? <Badge kind="ok">online</Badge> : <Badge kind="muted">offline</Badge>}</td>
                <td class="num">{d.installedSeq ?? '—'}</td>
              </tr>
            ))}
          />
          <nav class="pager" aria-label="pages">
            {t.cursor !== '' ? <a href={rotationUrl(t)}>« First page</a> : <span class="muted">First page</span>}
            {r.nextCursor !== null ? (
              <a href={rotationUrl(t, r.nextCursor)} rel="next">
                Next page »
              </a>
            ) : (
              <span class="muted">last page</span>
            )}
            <a href={`/devices?${new URLSearchParams({ fleet: t.fleet, atRiskHost: t.host, atRiskPin: t.pin }).toString()}`}>On the devices page</a>
            <span class="export">
              Export the at-risk list: <a href={rotationUrl(t, '', '/rotation/at-risk.csv')}>CSV</a> ·{' '}
              <a href={rotationUrl(t, '', '/rotation/at-risk.json')}>JSON</a>
            </span>
          </nav>
        </section>
      </div>
      <section class="panel" id="record">
        <h2>Record the rotation</h2>
        <RecordRotation view={view} t={t} r={r} target={target} />
      </section>
      <section class="panel panel-table" id="rotation-history">
        <h2>Rotation history of {t.fleet}</h2>
        <RotationHistory rotations={props.rotations} now={view.now} />
      </section>
    </Layout>
  );
}
