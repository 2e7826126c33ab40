/**
 * The rotation gate for one (fleet, host, pin) (SPEC §8): ready / not ready, coverage against the target, and the
 * devices that would lose connectivity if the host rotated to this key now (paged).
 */
import type { Readiness } from '../api/api-types';
import { CoverageBar } from '../components/bar';
import { Badge, Table } from '../components/table';
import { pct, plural, shortPin } from '../components/format';
import { Layout, PageHeader, type View } from './layout';

const WHY: Record<string, string> = {
  'pin-absent': 'enforces the host without this pin',
  'never-said-hello': 'never said hello (installed set unknown)',
  'unrecognised-set': 'holds a set the gateway never issued',
};

export interface RotationTarget {
  readonly fleet: string;
  readonly host: string;
  readonly pin: string;
  readonly cursor: string;
}

export function rotationUrl(t: Omit<RotationTarget, 'cursor'>, cursor = ''): string {
  const p = new URLSearchParams({ fleet: t.fleet, host: t.host, pin: t.pin });
  if (cursor !== '') p.set('cursor', cursor);
  return `/rotation?${p.toString()}`;
}

export function RotationPage(props: { view: View; t: RotationTarget; r: Readiness }) {
  const { t, r } = props;
  return (
    <Layout title={`Rotation gate · ${t.host}`} section="overview" view={props.view}>
      <PageHeader
        title={`Rotate ${t.host}?`}
        subtitle={
          <>
            fleet <b>{t.fleet}</b> · new key <span class="mono" title={t.pin}>{shortPin(t.pin)}</span>
          </>
        }
      />
      <div id="rotation" data-live>
        <section class="panel">
          <p class="gate-verdict" data-gate={r.ready ? 'ready' : 'not-ready'}>
            {r.ready ? <Badge kind="ok">ready</Badge> : <Badge kind="warn">not ready</Badge>}{' '}
            {r.ready
              ? `Coverage ${pct(r.coverage)} reached the ${pct(r.target)} target.`
              : `Coverage ${pct(r.coverage)} is below the ${pct(r.target)} target: wait for more devices to verify the new pin.`}
          </p>
          <CoverageBar percent={r.coverage} target={r.target} reached={r.ready} label={`coverage of ${shortPin(t.pin)}`} />
          <p class={r.atRisk > 0 ? 'at-risk' : 'muted'}>
            {plural(r.atRisk, 'device')} would lose connectivity if {t.host} rotated to this key now (enforced, key not
            pinned, fail-open date not reached).
          </p>
        </section>
        <section class="panel panel-table">
          <Table
            head={['Device at risk', 'Why', 'Online', 'Installed seq']}
            empty="No device is at risk."
            rows={r.devices.map((d) => (
              <tr data-device={d.deviceId}>
                <td>
                  <a class="mono" href={`/devices/${encodeURIComponent(d.deviceId)}`}>
                    {d.deviceId}
                  </a>
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
          </nav>
        </section>
      </div>
    </Layout>
  );
}
