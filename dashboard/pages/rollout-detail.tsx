/**
 * One rollout: state and why it paused, the gates, each wave's progress per execution state, and the operator
 * actions (POST forms; shown only to operators — the POST is refused for other roles as well). Abort goes through
 * a confirmation page.
 */
import type { Child } from 'hono/jsx';
import type { Rollout, RolloutAction } from '../api/api-types';
import { StateBar, StateLegend } from '../components/bar';
import { CsrfInput, PostButton } from '../components/forms';
import { Badge, Table } from '../components/table';
import { ago, fmtDuration, fmtTime, pct, ratio } from '../components/format';
import { Layout, PageHeader, type View } from './layout';
import { Progress, RolloutStateBadge } from './rollouts';

/** Which actions make sense in the rollout's state (the gateway has the last word and answers 409 otherwise). */
export function availableActions(r: Rollout): RolloutAction[] {
  const failed = r.totals.REJECTED + r.totals.TIMED_OUT;
  switch (r.state.kind) {
    case 'DRAFT':
      return ['start', 'abort'];
    case 'RUNNING':
      return ['pause', 'advance', ...(failed > 0 ? (['retry-failed'] as const) : []), 'abort'];
    case 'PAUSED':
      return [
        'resume',
        ...(r.state.reasonKind === 'approval' || r.state.reasonKind === 'wave-failed' ? (['advance'] as const) : []),
        ...(failed > 0 ? (['retry-failed'] as const) : []),
        'abort',
      ];
    default:
      return [];
  }
}

const path = (r: Rollout, action: string) => `/rollouts/${encodeURIComponent(r.id)}/${action}`;

function Actions(props: { r: Rollout; view: View }) {
  const { r, view } = props;
  if (!view.canOperate) {
    return <p class="muted small read-only">Read-only: your role ({view.identity.role}) cannot change rollouts.</p>;
  }
  const actions = availableActions(r);
  if (actions.length === 0) return <p class="muted small">This rollout is finished; no actions.</p>;
  const buttons: Child[] = actions.map((a) => {
    switch (a) {
      case 'start':
        return <PostButton action={path(r, a)} csrf={view.csrf} label="Start" kind="primary" />;
      case 'pause':
        return (
          <PostButton action={path(r, a)} csrf={view.csrf} label="Pause" kind="primary">
            <input type="text" name="reason" placeholder="reason (optional)" aria-label="pause reason" maxlength={200} />
          </PostButton>
        );
      case 'resume':
        return <PostButton action={path(r, a)} csrf={view.csrf} label="Resume" kind="primary" />;
      case 'advance':
        return r.state.kind === 'PAUSED' && r.state.reasonKind === 'wave-failed' ? (
          <PostButton
            action={path(r, a)}
            csrf={view.csrf}
            label="Accept failed wave and advance"
            confirm="Accept this wave's failures and start the next wave?"
          />
        ) : r.state.kind === 'PAUSED' ? (
          <PostButton action={path(r, a)} csrf={view.csrf} label="Approve next wave" kind="primary" />
        ) : (
          <PostButton
            action={path(r, a)}
            csrf={view.csrf}
            label="Advance now"
            confirm="Advance to the next wave now, without waiting for the success gate?"
          />
        );
      case 'retry-failed':
        return (
          <PostButton
            action={path(r, a)}
            csrf={view.csrf}
            label="Retry failed"
            confirm="Queue every rejected and timed-out device of this rollout again?"
          />
        );
      case 'abort':
        return (
          <a class="btn btn-danger" href={path(r, 'abort')}>
            Abort…
          </a>
        );
    }
  });
  return <div class="actions">{buttons}</div>;
}

function Gates(props: { r: Rollout }) {
  const { gates, state, waves } = props.r;
  const current = state.wave !== null ? waves[state.wave] : undefined;
  const size = current ? Object.values(current.counts).reduce((a, b) => a + b, 0) : 0;
  const verified = current?.counts.VERIFIED ?? 0;
  return (
    <dl class="gates">
      <div>
        <dt>Success gate</dt>
        <dd>
          ≥ {gates.successPercent ?? 95} % of the wave verified, then soak {fmtDuration(gates.soakMs)}
          {current ? (
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
          pause when &gt; {gates.errorPercent ?? 5} % rejected / timed out, once ≥ {gates.errorMinFinished ?? 10} devices
          finished
        </dd>
      </div>
      {gates.telemetryMismatchPercent !== null ? (
        <div>
          <dt>Telemetry gate</dt>
          <dd>pause when &gt; {gates.telemetryMismatchPercent} % of pin reports are mismatches</dd>
        </div>
      ) : null}
      <div>
        <dt>Manual approval</dt>
        <dd>{gates.manualApproval === true ? 'required between waves' : 'no'}</dd>
      </div>
    </dl>
  );
}

function waveStatus(r: Rollout, i: number): { label: string; kind: string } {
  const cur = r.state.wave;
  if (r.state.kind === 'COMPLETED') return { label: 'done', kind: 'ok' };
  if (cur === null) return r.waves[i]?.startedAt != null ? { label: 'ended', kind: 'muted' } : { label: 'pending', kind: 'muted' };
  if (i < cur) return { label: 'done', kind: 'ok' };
  if (i === cur) return r.state.kind === 'PAUSED' ? { label: 'paused', kind: 'warn' } : { label: 'current', kind: 'info' };
  return { label: 'pending', kind: 'muted' };
}

export function RolloutDetailPage(props: { view: View; r: Rollout; notice?: string }) {
  const { r, view } = props;
  return (
    <Layout title={`Rollout ${r.id}`} section="rollouts" view={view}>
      <PageHeader
        title={`Rollout ${r.id}`}
        subtitle={
          <>
            fleet <b>{r.fleet}</b> · pin-set seq <b>{r.seq ?? '—'}</b> · created {fmtTime(r.createdAt)}
          </>
        }
      />
      {props.notice !== undefined ? <p class="alert alert-info">{props.notice}</p> : null}
      <div id="rollout" data-live data-rollout-state={r.state.kind}>
        <section class="panel">
          <div class="rollout-summary">
            <div>
              <RolloutStateBadge r={r} />
              {r.state.since !== null ? <span class="muted"> since {ago(r.state.since, view.now)}</span> : null}
              {r.state.reason !== null ? (
                <p class={r.state.kind === 'PAUSED' ? 'alert alert-warn pause-reason' : 'alert alert-info'}>
                  {r.state.kind === 'PAUSED' ? 'Paused ' : 'Ended: '}
                  {r.state.reason}
                </p>
              ) : null}
            </div>
            <Actions r={r} view={view} />
          </div>
          <Progress r={r} />
          <StateLegend counts={r.totals} />
        </section>
        <section class="panel">
          <h2>Gates</h2>
          <Gates r={r} />
        </section>
        <section class="panel">
          <h2>Waves</h2>
          <Table
            class="table table-waves"
            head={['#', 'Wave', 'Limit', 'Status', 'Progress per execution state', 'Started']}
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
                  <td class="muted">{fmtTime(w.startedAt)}</td>
                </tr>
              );
            })}
          />
        </section>
      </div>
    </Layout>
  );
}

export function AbortConfirmPage(props: { view: View; r: Rollout }) {
  const { r, view } = props;
  return (
    <Layout title={`Abort rollout ${r.id}`} section="rollouts" view={view} live={false}>
      <section class="panel panel-danger confirm">
        <h1>Abort rollout {r.id}?</h1>
        <p>
          Devices that already installed seq {r.seq ?? '—'} keep it; queued devices will not get it from this rollout.
          An aborted rollout cannot be resumed.
        </p>
        <form method="post" action={path(r, 'abort')} class="stack">
          <CsrfInput token={view.csrf} />
          <input type="hidden" name="confirm" value="abort" />
          <label for="reason">Reason (recorded in the audit log)</label>
          <input id="reason" name="reason" type="text" maxlength={200} />
          <div class="actions">
            <button type="submit" class="btn btn-danger">
              Abort rollout
            </button>
            <a class="btn btn-plain" href={`/rollouts/${encodeURIComponent(r.id)}`}>
              Cancel
            </a>
          </div>
        </form>
      </section>
    </Layout>
  );
}
