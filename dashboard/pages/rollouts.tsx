/** Rollout list (SPEC §7) with state, current wave and overall progress per execution state. */
import type { Rollout } from '../api/api-types';
import { StateBar } from '../components/bar';
import { Badge, Table } from '../components/table';
import { ago } from '../components/format';
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

export function Progress(props: { r: Rollout }) {
  const { totals, total } = props.r;
  return (
    <div class="progress">
      <StateBar counts={totals} total={total} label={`${totals.VERIFIED} of ${total} verified`} />
      <span class="bar-caption">
        <b class="verified-count">{totals.VERIFIED}</b> / {total} verified
        {totals.REJECTED + totals.TIMED_OUT > 0 ? (
          <span class="bad-text"> · {totals.REJECTED + totals.TIMED_OUT} failed</span>
        ) : null}
      </span>
    </div>
  );
}

export interface RolloutFilter {
  readonly fleet: string;
  readonly state: string;
}

export function RolloutsPage(props: { view: View; rollouts: Rollout[]; filter: RolloutFilter; fleets: string[] }) {
  const { filter } = props;
  return (
    <Layout title="Rollouts" section="rollouts" view={props.view}>
      <PageHeader title="Rollouts" subtitle="Staged deliveries of signed pin sets, wave by wave, with automatic gates." />
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
          head={['Rollout', 'Fleet', 'Seq', 'State', 'Progress', 'Why paused', 'Created']}
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
              <td class="reason">{r.state.kind === 'PAUSED' ? r.state.reason ?? '—' : ''}</td>
              <td class="muted">{ago(r.createdAt, props.view.now)}</td>
            </tr>
          ))}
        />
      </div>
    </Layout>
  );
}
