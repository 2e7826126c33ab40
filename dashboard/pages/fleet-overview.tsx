/**
 * Fleet overview (SPEC §8): per fleet and host, coverage of each pin as a bar toward the target line, the rotation
 * gate for rotating the host to that pin (ready / not ready, with the at-risk device count), online/offline counts,
 * and the pin-set seq in use.
 */
import type { CoverageRow, Fleet, Readiness, Rollout } from '../api/api-types';
import { CoverageBar } from '../components/bar';
import { Badge, Table } from '../components/table';
import { pct, plural, shortPin } from '../components/format';
import { Layout, PageHeader, type View } from './layout';
import { RolloutStateBadge } from './rollouts';
import { PinRoles, rotationUrl } from './rotation-readiness';
import type { PinRole } from '../components/pin-role';
import { ErrorAlert } from '../components/forms';

export const DEFAULT_TARGET = 95;

export interface FleetView {
  readonly fleet: Fleet;
  readonly coverage: CoverageRow[];
  /** Rotation readiness per `${host}\n${pin}`; null when the API could not answer for that pair. */
  readonly readiness: Map<string, Readiness | null>;
  readonly rollouts: Rollout[];
  readonly error: string | null;
  /** What each pin is to its host (served now, new key, backup), per `${host}\n${pin}`. */
  readonly roles?: ReadonlyMap<string, readonly PinRole[]>;
}

export const readinessKey = (host: string, pin: string) => `${host}\n${pin}`;

function GateCell(props: { r: Readiness | null | undefined; href: string }) {
  const r = props.r;
  if (r === null || r === undefined) return <span class="muted">—</span>;
  // An empty fleet is vacuously "ready" for the gateway (nobody would break); say what it is instead (issue 15).
  if (r.total === 0) {
    return (
      <span class="gate" data-gate="empty">
        <Badge kind="muted">no devices</Badge>
      </span>
    );
  }
  return (
    <span class="gate" data-gate={r.ready ? 'ready' : 'not-ready'}>
      {r.ready ? <Badge kind="ok">ready</Badge> : <Badge kind="warn">not ready</Badge>}{' '}
      <a href={props.href} class={r.atRisk > 0 ? 'at-risk' : 'muted'}>
        {plural(r.atRisk, 'device')} at risk
      </a>
    </span>
  );
}

function HostTable(props: { host: string; rows: CoverageRow[]; fv: FleetView }) {
  return (
    <div class="host-block">
      <h3 class="host-name">{props.host}</h3>
      <Table
        class="table table-coverage"
        head={['Pin', `Coverage toward target`, 'Verified', 'Rotation gate (rotate to this pin)']}
        phoneHidden={[3]}
        empty="No pins"
        rows={props.rows.map((row) => {
          const r = props.fv.readiness.get(readinessKey(row.host, row.pin));
          const target = r?.target ?? DEFAULT_TARGET;
          return (
            <tr data-host={row.host} data-pin={row.pin}>
              <td>
                <span class="mono" title={row.pin}>
                  {shortPin(row.pin)}
                </span>{' '}
                <PinRoles roles={props.fv.roles?.get(readinessKey(row.host, row.pin)) ?? []} />
              </td>
              <td class="bar-cell">
                <CoverageBar
                  percent={row.total === 0 ? 0 : row.percent}
                  target={target}
                  label={`coverage of ${shortPin(row.pin)}`}
                  {...(r ? { reached: r.ready } : {})}
                />
                <span class="bar-caption">
                  {row.total === 0 ? (
                    <span class="muted coverage-pct">no devices</span>
                  ) : (
                    <>
                      <b class="coverage-pct">{pct(row.percent)}</b> <span class="muted">target {pct(target)}</span>
                    </>
                  )}
                </span>
              </td>
              <td class="num">
                {row.verified} / {row.total}
              </td>
              <td>
                <GateCell r={r} href={rotationUrl({ fleet: props.fv.fleet.fleet, host: row.host, pin: row.pin })} />
              </td>
            </tr>
          );
        })}
      />
    </div>
  );
}

function FleetCard(props: { fv: FleetView; index: number }) {
  const { fleet, coverage } = props.fv;
  const hosts = [...new Set(coverage.map((c) => c.host))].sort();
  const active = props.fv.rollouts.filter((r) => r.state.kind === 'RUNNING' || r.state.kind === 'PAUSED');
  return (
    <section class="panel fleet-card" id={`fleet-${props.index}`} data-fleet={fleet.fleet}>
      <div class="fleet-head">
        <h2>
          <a href={`/devices?fleet=${encodeURIComponent(fleet.fleet)}`}>{fleet.fleet}</a>
        </h2>
        <dl class="stats">
          <div>
            <dt>Devices</dt>
            <dd class="stat-devices">{fleet.devices}</dd>
          </div>
          <div>
            <dt>Online</dt>
            <dd class="stat-online">{fleet.online}</dd>
          </div>
          <div>
            <dt>Offline</dt>
            <dd class="stat-offline">{Math.max(0, fleet.devices - fleet.online)}</dd>
          </div>
          <div>
            <dt>Pin-set seq in use</dt>
            <dd class="stat-seq">{fleet.latestSeq > 0 ? fleet.latestSeq : '—'}</dd>
          </div>
        </dl>
      </div>
      {active.length > 0 ? (
        <ul class="active-rollouts">
          {active.map((r) => (
            <li>
              <a href={`/rollouts/${encodeURIComponent(r.id)}`}>Rollout {r.id}</a> (seq {r.seq ?? '—'}){' '}
              <RolloutStateBadge r={r} />
            </li>
          ))}
        </ul>
      ) : null}
      <ErrorAlert error={props.fv.error} />
      {hosts.length === 0 && props.fv.error === null ? <p class="muted">No verified pin sets in this fleet yet.</p> : null}
      {hosts.map((h) => (
        <HostTable host={h} rows={coverage.filter((c) => c.host === h)} fv={props.fv} />
      ))}
    </section>
  );
}

export function FleetOverviewPage(props: { view: View; fleets: FleetView[] }) {
  const devices = props.fleets.reduce((a, f) => a + f.fleet.devices, 0);
  const online = props.fleets.reduce((a, f) => a + f.fleet.online, 0);
  return (
    <Layout title="Fleet overview" section="overview" view={props.view}>
      <PageHeader
        title="Fleet overview"
        subtitle="Coverage counts devices that verified a pin set pinning the key (offline devices included). Rotate a host's key only when its gate is ready."
      />
      <div id="overview" data-live>
        <div class="summary">
          <div class="summary-item">
            <span class="summary-value">{props.fleets.length}</span> fleets
          </div>
          <div class="summary-item">
            <span class="summary-value">{devices}</span> devices
          </div>
          <div class="summary-item">
            <span class="summary-value">{online}</span> online
          </div>
          <div class="summary-item">
            <span class="summary-value">{devices - online}</span> offline
          </div>
        </div>
        {props.fleets.length === 0 ? <p class="panel muted">No fleets yet: register devices through the API.</p> : null}
        {props.fleets.map((fv, i) => (
          <FleetCard fv={fv} index={i} />
        ))}
      </div>
    </Layout>
  );
}
