/**
 * One rollout: state and why it is not moving (pause reason or the gate's own words), progress against its whole
 * target, the gates, each wave with the devices holding it back and an ETA, the operator actions, and the activity
 * timeline from the audit log (who created, started, paused, advanced it, and why). Abort goes through a
 * confirmation page.
 */
import type { AuditEntry, Rollout } from '../api/api-types';
import { StateLegend } from '../components/bar';
import { CsrfInput } from '../components/forms';
import { fmtTime } from '../components/format';
import { Ago } from '../components/ago';
import { describeAudit } from '../components/audit-text';
import { Layout, PageHeader, type View } from './layout';
import { Progress, RolloutStateBadge, whyNotMoving } from './rollouts';
import { actionPath, RolloutActions } from './rollout-actions';
import { EtaText, Gates, WavesTable } from './rollout-waves';

export { availableActions } from './rollout-actions';

/** What a notice is about: it is shown only while the rollout is still in this state (routes/flash.ts). */
export function stateKey(r: Rollout): string {
  return `${r.state.kind}:${r.state.wave ?? ''}:${r.state.reasonKind ?? ''}`;
}

export interface Notice {
  readonly kind: 'ok' | 'error';
  readonly text: string;
}

function Timeline(props: { entries: AuditEntry[]; now: number; more: boolean; rolloutId: string }) {
  return (
    <section class="panel" id="timeline" data-live>
      <h2>Activity</h2>
      {props.entries.length === 0 ? <p class="muted">No recorded activity.</p> : null}
      <ol class="timeline">
        {props.entries.map((e) => {
          const d = describeAudit(e);
          return (
            <li data-action={e.action}>
              <span class="muted nowrap">
                <Ago at={e.at} now={props.now} />
              </span>{' '}
              <b>{e.actor}</b> {d.verb}
              {d.detail !== '' ? <span class="muted"> · {d.detail}</span> : null}
            </li>
          );
        })}
      </ol>
      {props.more ? (
        <p>
          <a href={`/audit?target=${encodeURIComponent(props.rolloutId)}`}>Full history in the audit log »</a>
        </p>
      ) : null}
    </section>
  );
}

export function RolloutDetailPage(props: { view: View; r: Rollout; notice?: Notice; timeline?: { entries: AuditEntry[]; more: boolean } }) {
  const { r, view } = props;
  const why = whyNotMoving(r);
  return (
    <Layout title={`Rollout ${r.id}`} section="rollouts" view={view}>
      <PageHeader
        title={`Rollout ${r.id}`}
        subtitle={
          <>
            fleet <b>{r.fleet}</b> · pin-set seq <b>{r.seq ?? '—'}</b> · created {fmtTime(r.createdAt)}
            {r.createdBy !== null ? ` by ${r.createdBy}` : ''}
          </>
        }
      />
      <div id="notice" data-live>
        {props.notice !== undefined ? (
          props.notice.kind === 'error' ? (
            <p class="alert alert-error notice" role="alert">
              {props.notice.text}
            </p>
          ) : (
            <p class="alert alert-ok notice" role="status">
              {props.notice.text}
            </p>
          )
        ) : null}
      </div>
      <div id="rollout" data-live data-rollout-state={r.state.kind}>
        <section class="panel">
          <div class="rollout-summary">
            <div>
              <RolloutStateBadge r={r} />
              {r.state.since !== null ? (
                <span class="muted state-since">
                  {' '}
                  {r.state.kind === 'COMPLETED' || r.state.kind === 'ABORTED' ? '' : 'since '}
                  <Ago at={r.state.since} now={view.now} />
                </span>
              ) : null}
              {r.state.kind === 'PAUSED' && why !== null ? <p class="alert alert-warn pause-reason">{why}</p> : null}
              {r.state.kind === 'RUNNING' && why !== null ? <p class="alert alert-info gate-reason">Not advancing yet: {why}.</p> : null}
              {r.state.kind === 'ABORTED' && r.state.reason !== null ? <p class="alert alert-info">Ended: {r.state.reason}</p> : null}
            </div>
            <RolloutActions r={r} view={view} />
          </div>
          <Progress r={r} />
          <StateLegend counts={r.totals} />
          {r.state.kind === 'RUNNING' || r.state.kind === 'PAUSED' ? (
            <p class="small fleet-eta">
              <EtaText eta={r.eta} now={view.now} goal={`${r.eta?.percent ?? 95} % of the target`} />
            </p>
          ) : null}
        </section>
        <section class="panel">
          <h2>Gates</h2>
          <Gates r={r} now={view.now} />
        </section>
        <section class="panel">
          <h2>Waves</h2>
          <WavesTable r={r} now={view.now} />
        </section>
      </div>
      {props.timeline !== undefined ? <Timeline entries={props.timeline.entries} more={props.timeline.more} now={view.now} rolloutId={r.id} /> : null}
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
        <form method="post" action={actionPath(r, 'abort')} class="stack">
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
