/**
 * The operator actions of one rollout (POST forms; shown only to operators, and the gateway enforces roles again).
 * One button per distinct meaning: an approval pause offers "Approve next wave" only (its resume is the same
 * command, issue 15). Resume and advance carry an optional reason, written to the audit log by the gateway.
 */
import type { Child } from 'hono/jsx';
import type { Rollout, RolloutAction } from '../api/api-types';
import { PostButton } from '../components/forms';
import type { View } from './layout';

/** Which actions make sense in the rollout's state (the gateway has the last word and answers 409 otherwise). */
export function availableActions(r: Rollout): RolloutAction[] {
  const failed = r.totals.REJECTED + r.totals.TIMED_OUT;
  const retry = failed > 0 ? (['retry-failed'] as const) : [];
  switch (r.state.kind) {
    case 'DRAFT':
      return ['start', 'abort'];
    case 'RUNNING':
      return ['pause', 'advance', ...retry, 'abort'];
    case 'PAUSED':
      if (r.state.reasonKind === 'approval') return ['advance', ...retry, 'abort'];
      if (r.state.reasonKind === 'wave-failed') return ['resume', 'advance', ...retry, 'abort'];
      return ['resume', ...retry, 'abort'];
    default:
      return [];
  }
}

export const actionPath = (r: Rollout, action: string) => `/rollouts/${encodeURIComponent(r.id)}/${action}`;

function Reason(props: { label: string; required?: boolean }) {
  return (
    <input
      type="text"
      name="reason"
      placeholder={props.required === true ? 'reason (required)' : 'reason (optional)'}
      aria-label={props.label}
      maxlength={200}
      {...(props.required === true ? { required: true } : {})}
    />
  );
}

export function RolloutActions(props: { r: Rollout; view: View }) {
  const { r, view } = props;
  if (!view.canOperate) {
    return <p class="muted small read-only">Read-only: your role ({view.identity.role}) cannot change rollouts.</p>;
  }
  const actions = availableActions(r);
  if (actions.length === 0) return <p class="muted small">This rollout is finished; no actions.</p>;
  const paused = r.state.kind === 'PAUSED';
  const buttons: Child[] = actions.map((a) => {
    const action = actionPath(r, a);
    switch (a) {
      case 'start':
        return <PostButton action={action} csrf={view.csrf} label="Start" kind="primary" />;
      case 'pause':
        return (
          <PostButton action={action} csrf={view.csrf} label="Pause" kind="primary">
            <Reason label="pause reason" />
          </PostButton>
        );
      case 'resume':
        return (
          <PostButton action={action} csrf={view.csrf} label={r.state.reasonKind === 'wave-failed' ? 'Resume (retry this wave)' : 'Resume'} kind="primary">
            <Reason label="resume reason" />
          </PostButton>
        );
      case 'advance':
        if (paused && r.state.reasonKind === 'wave-failed') {
          return (
            <PostButton action={action} csrf={view.csrf} label="Accept failed wave and advance" confirm="Accept this wave's failures and start the next wave?">
              <Reason label="why accept the failed wave" required />
            </PostButton>
          );
        }
        if (paused) {
          return (
            <PostButton action={action} csrf={view.csrf} label="Approve next wave" kind="primary">
              <Reason label="approval note" />
            </PostButton>
          );
        }
        {
          // the current wave's devices that are offline or not yet sent: advancing leaves them queued (they get the
          // set when they come back) and starts the next wave now (audited with the reason)
          const current = r.state.wave !== null ? r.waves[r.state.wave] : undefined;
          const queued = current?.counts.QUEUED ?? 0;
          const label = queued > 0 ? `Advance past ${queued} queued (offline) device${queued === 1 ? '' : 's'}` : 'Advance now';
          return (
            <PostButton action={action} csrf={view.csrf} label={label} confirm="Advance to the next wave now, without waiting for the success gate? Devices still queued (offline) stay queued.">
              <Reason label="why advance now" required />
            </PostButton>
          );
        }
      case 'retry-failed':
        return (
          <PostButton action={action} csrf={view.csrf} label="Retry failed" confirm="Queue every rejected and timed-out device of this rollout again?" />
        );
      case 'abort':
        return (
          <a class="btn btn-danger" href={actionPath(r, 'abort')}>
            Abort…
          </a>
        );
    }
  });
  return <div class="actions">{buttons}</div>;
}
