/**
 * A rollout's gates (with the gate's own verdict, `gate.decision.why`) and its waves: progress per execution state,
 * the devices that hold a wave back as links (queued = offline / waiting, rejected, timed out), and the ETA from the
 * observed verify rate (issue 15 "why isn't it moving?").
 */
import type { EtaView, Rollout, WaveView } from '../api/api-types';
import { StateBar } from '../components/bar';
import { Badge, Table } from '../components/table';
import { fmtDuration, fmtTime, pct, ratio } from '../components/format';
import { Ago } from '../components/ago';

/** Where a wave's devices in some states are listed. */
export function executionsUrl(r: Rollout, q: { state?: string; wave?: number }): string {
  const p = new URLSearchParams();
  if (q.state !== undefined) p.set('state', q.state);
  if (q.wave !== undefined) p.set('wave', String(q.wave));
  const s = p.toString();
  return `/rollouts/${encodeURIComponent(r.id)}/devices${s === '' ? '' : `?${s}`}`;
}

/** "in 4 min (12.5/min)", "—". */
export function EtaText(props: { eta: EtaView | null; now: number; goal: string }) {
  const e = props.eta;
  if (e === null) return <span class="muted">—</span>;
  if (e.remaining === 0) return <span class="eta">{props.goal} reached</span>;
  if (e.at === null) {
    return (
      <span class="eta muted">
        {e.remaining} more to verify for {props.goal}
        {e.perMinute === null ? '; no verification yet to estimate from' : '; not moving now'}
      </span>
    );
  }
  return (
    <span class="eta" title={fmtTime(e.at)}>
      {props.goal} in ~{fmtDuration(Math.max(0, e.at - props.now))} ({e.remaining} more at {e.perMinute ?? '?'}/min)
    </span>
  );
}

export function Gates(props: { r: Rollout; now: number }) {
  const { gates, state, waves, gate } = props.r;
  const current = state.wave !== null ? waves[state.wave] : undefined;
  const size = current ? Object.values(current.counts).reduce((a, b) => a + b, 0) - current.counts.SUPERSEDED : 0;
  const verified = current?.counts.VERIFIED ?? 0;
  const failed = current ? current.counts.REJECTED + current.counts.TIMED_OUT : 0;
  const finished = verified + failed;
  const active = state.kind === 'RUNNING' || state.kind === 'PAUSED';
  return (
    <dl class="gates">
      {active && gate !== null && gate.why !== null && state.kind === 'RUNNING' ? (
        <div class="gate-why-row">
          <dt>Gate now</dt>
          <dd class="gate-why" data-gate-kind={gate.kind}>
            {gate.kind === 'hold' ? 'holding: ' : `${gate.kind}: `}
            {gate.why}
          </dd>
        </div>
      ) : null}
      <div>
        <dt>Success gate</dt>
        <dd>
          ≥ {gates.successPercent ?? 95} % of the wave verified, then soak {fmtDuration(gates.soakMs)}
          {current && active ? (
            <span class="gate-now">
              {' '}
              · now {pct(ratio(verified, size))} ({verified}/{size})
              {state.soakStartedAt !== null ? `, soaking since ${fmtTime(state.soakStartedAt)}` : ''}
            </span>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>Error gate</dt>
        <dd>
          pause when more than {gates.errorPercent ?? 5} % are rejected or timed out, once at least {gates.errorMinFinished ?? 10} devices
          finished
          {current && active ? (
            <span class="gate-now error-now">
              {' '}
              · now {failed} of {finished} finished failed ({pct(ratio(failed, finished))})
            </span>
          ) : null}
        </dd>
      </div>
      {gates.telemetryMismatchPercent !== null ? (
        <div>
          <dt>Telemetry gate</dt>
          <dd>pause when more than {gates.telemetryMismatchPercent} % of pin reports are mismatches</dd>
        </div>
      ) : null}
      <div>
        <dt>Manual approval</dt>
        <dd>{gates.manualApproval === true ? 'required between waves' : 'no'}</dd>
      </div>
    </dl>
  );
}

export function waveStatus(r: Rollout, i: number): { label: string; kind: string } {
  const cur = r.state.wave;
  const w = r.waves[i];
  const started = w?.startedAt != null;
  if (r.state.kind === 'COMPLETED') return started ? { label: 'done', kind: 'ok' } : { label: 'skipped', kind: 'muted' };
  if (r.state.kind === 'ABORTED') return started ? { label: 'stopped', kind: 'bad' } : { label: 'never started', kind: 'muted' };
  if (r.state.kind === 'DRAFT' || cur === null) return { label: 'not started', kind: 'muted' };
  if (i < cur) return { label: 'done', kind: 'ok' };
  if (i === cur) return r.state.kind === 'PAUSED' ? { label: 'paused', kind: 'warn' } : { label: 'current', kind: 'info' };
  return { label: 'pending', kind: 'muted' };
}

/** The devices holding a wave back, as links to their list. */
function Stuck(props: { r: Rollout; w: WaveView }) {
  const { r, w } = props;
  const links = (
    [
      ['QUEUED', 'queued (offline or waiting)', w.counts.QUEUED],
      ['DELIVERED,APPLIED', 'delivered, not verified', w.counts.DELIVERED + w.counts.APPLIED],
      ['REJECTED', 'rejected', w.counts.REJECTED],
      ['TIMED_OUT', 'timed out', w.counts.TIMED_OUT],
    ] as const
  ).filter(([, , n]) => n > 0);
  if (links.length === 0) return null;
  return (
    <ul class="stuck">
      {links.map(([state, label, n]) => (
        <li>
          <a href={executionsUrl(r, { state, wave: w.index })} data-stuck={state}>
            {n} {label}
          </a>
        </li>
      ))}
    </ul>
  );
}

export function WavesTable(props: { r: Rollout; now: number }) {
  const { r } = props;
  const success = r.gates.successPercent ?? 95;
  return (
    <Table
      class="table table-waves"
      head={['#', 'Wave', 'Limit', 'Status', 'Progress per execution state', 'Holding it back', 'ETA', 'Started']}
      phoneHidden={[1, 3, 7, 8]}
      empty="No waves"
      rows={r.waves.map((w) => {
        const size = Object.values(w.counts).reduce((a, b) => a + b, 0);
        const st = waveStatus(r, w.index);
        return (
          <tr data-wave={w.index}>
            <td class="num">{w.index + 1}</td>
            <td>
              {w.name}
              {w.selector !== null ? <div class="muted small">{w.selector}</div> : null}
            </td>
            <td>{w.limit}</td>
            <td>
              <Badge kind={st.kind}>{st.label}</Badge>
            </td>
            <td class="bar-cell">
              <StateBar counts={w.counts} total={size} label={`wave ${w.index + 1}: ${w.counts.VERIFIED} of ${size} verified`} />
              <span class="bar-caption wave-counts">
                {size === 0
                  ? 'no devices yet'
                  : Object.entries(w.counts)
                      .filter(([, n]) => n > 0)
                      .map(([k, n]) => `${k.toLowerCase().replace('_', ' ')} ${n}`)
                      .join(' · ')}
              </span>
            </td>
            <td class="stuck-cell">
              <Stuck r={r} w={w} />
            </td>
            <td class="small">
              {st.label === 'current' || st.label === 'paused' ? <EtaText eta={w.eta} now={props.now} goal={`${success} %`} /> : <span class="muted">—</span>}
            </td>
            <td class="muted">{w.startedAt !== null ? <Ago at={w.startedAt} now={props.now} /> : '—'}</td>
          </tr>
        );
      })}
    />
  );
}
