/** Rollout list (SPEC §7) with state, current wave and overall progress per execution state. */
import type { Rollout } from '../api/api-types';
import { StateBar } from '../components/bar';
import { Badge, Table } from '../components/table';
import { Ago } from '../components/ago';
import { FleetSelect } from '../components/forms';
import { Layout, PageHeader, type View } from './layout';

const STATE_BADGE: Record<string, string> = {
  DRAFT: 'muted',
  RUNNING: 'info',
  PAUSED: 'warn',
  COMPLETED: 'ok',
  ABORTED: 'bad',
};

export function RolloutStateBadge(props: { r: Rollout }) {
  const s = props.r.state;
  const wave = s.wave !== null && s.waveCount !== null ? ` · wave ${s.wave + 1}/${s.waveCount}` : '';
  return (
    <span class="rollout-state" data-state={s.kind}>
      <Badge kind={STATE_BADGE[s.kind] ?? 'muted'}>{s.kind.toLowerCase()}</Badge>
      <span class="muted">{wave}</span>
    </span>
  );
}

/**
 * Overall progress against the rollout's whole target (issue 15: not against the devices enrolled so far, which
 * made wave 2 of 5 look nearly done); devices not reached yet are the empty part of the bar.
 */
export function Progress(props: { r: Rollout }) {
  const { totals, total: enrolled } = props.r;
  const total = Math.max(props.r.targetDevices ?? enrolled, enrolled);
  const notReached = total - enrolled;
  return (
    <div class="progress">
      <StateBar counts={totals} total={total} label={`${totals.VERIFIED} of ${total} targeted devices verified`} />
      <span class="bar-caption">
        <b class="verified-count">{totals.VERIFIED}</b> / <span class="target-count">{total}</span> verified
        {totals.REJECTED + totals.TIMED_OUT > 0 ? (
          <span class="bad-text"> · {totals.REJECTED + totals.TIMED_OUT} failed</span>
        ) : null}
        {notReached > 0 ? (
          <span class="muted not-reached">
            {' '}
            · {notReached} {props.r.state.kind === 'ABORTED' ? 'never reached' : 'not reached yet'}
          </span>
        ) : null}
      </span>
    </div>
  );
}

/** Why a rollout is not moving, in the gateway's words: its pause reason, or the gate's hold while running. */
export function whyNotMoving(r: Rollout): string | null {
  if (r.state.kind === 'PAUSED') return r.state.reason !== null ? `Paused ${r.state.reason}` : 'Paused';
  if (r.state.kind === 'RUNNING' && r.gate !== null && r.gate.kind === 'hold' && r.gate.why !== null) return r.gate.why;
  return null;
}

export interface RolloutFilter {
  readonly fleet: string;
  readonly state: string;
}

export function RolloutsPage(props: { view: View; rollouts: Rollout[]; filter: RolloutFilter; fleets: string[] }) {
  const { filter } = props;
  return (
    <Layout title="Rollouts" section="rollouts" view={props.view}>
      <PageHeader
        title="Rollouts"
        subtitle="Staged deliveries of signed pin sets, wave by wave, with automatic gates."
        {...(props.view.canOperate
          ? {
              actions: (
                <a class="btn btn-primary" href="/rollouts/new">
                  New rollout…
                </a>
              ),
            }
          : {})}
      />
      <form method="get" action="/rollouts" class="filters">
        <FleetSelect fleets={props.fleets} selected={filter.fleet} />
        <label>
          State
          <select name="state">
            <option value="">all</option>
            {['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'ABORTED'].map((s) => (
              <option value={s} selected={s === filter.state}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-plain">
          Filter
        </button>
      </form>
      <div id="rollout-list" class="panel panel-table" data-live>
        <Table
          head={['Rollout', 'Fleet', 'Seq', 'State', 'Progress', 'Why not moving', 'Created']}
          phoneHidden={[2, 3, 6, 7]}
          empty="No rollouts match."
          rows={props.rollouts.map((r) => (
            <tr data-rollout={r.id}>
              <td>
                <a href={`/rollouts/${encodeURIComponent(r.id)}`} class="mono">
                  {r.id}
                </a>
              </td>
              <td>{r.fleet}</td>
              <td class="num">{r.seq ?? '—'}</td>
              <td>
                <RolloutStateBadge r={r} />
              </td>
              <td class="bar-cell">
                <Progress r={r} />
              </td>
              <td class="reason">{whyNotMoving(r) ?? ''}</td>
              <td class="muted">
                <Ago at={r.createdAt} now={props.view.now} />
              </td>
            </tr>
          ))}
        />
      </div>
    </Layout>
  );
}
