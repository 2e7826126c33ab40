/**
 * Recording a rotation from the dashboard (issue 15): the gateway's gate decides (POST /api/rotations answers 422
 * E_GATE_NOT_MET below the target). Past the gate only with a written reason and a typed confirmation (the host
 * name), both checked here and by the gateway (reason). The fleet's rotation history sits below.
 */
import type { Readiness, Rotation } from '../api/api-types';
import { Ago } from '../components/ago';
import { CsrfInput } from '../components/forms';
import { pct, shortPin } from '../components/format';
import { Badge, Table } from '../components/table';
import type { View } from './layout';
import type { RotationTarget } from './rotation-target';

export function RecordRotation(props: { view: View; t: RotationTarget; r: Readiness; target: number }) {
  const { view, t, r } = props;
  if (!view.canOperate) return <p class="muted small read-only">Read-only: recording a rotation needs the operator role.</p>;
  const hidden = (
    <>
      <CsrfInput token={view.csrf} />
      <input type="hidden" name="fleet" value={t.fleet} />
      <input type="hidden" name="host" value={t.host} />
      <input type="hidden" name="pin" value={t.pin} />
      <input type="hidden" name="target" value={String(props.target)} />
    </>
  );
  if (r.ready) {
    return (
      <form method="post" action="/rotation/record" class="stack record-rotation">
        {hidden}
        <p>
          The gate is met: record that <b>{t.host}</b> now serves the key <span class="mono">{shortPin(t.pin)}</span>, then switch the
          server.
        </p>
        <label for="rot-reason">Note (optional, audit log)</label>
        <input id="rot-reason" name="reason" type="text" maxlength={500} />
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Record rotation
          </button>
        </div>
      </form>
    );
  }
  return (
    <form method="post" action="/rotation/record" class="stack record-rotation force-rotation">
      {hidden}
      <input type="hidden" name="force" value="true" />
      <p class="alert alert-warn">
        The gate is not met ({pct(r.coverage)} of {pct(r.target)}): {r.atRisk} device{r.atRisk === 1 ? '' : 's'} would lose connectivity.
        Recording it anyway is a forced rotation: it is audited with your reason.
      </p>
      <label for="force-reason">Why force it (required)</label>
      <input id="force-reason" name="reason" type="text" maxlength={500} required />
      <label for="force-confirm">
        Type the host name <b class="mono">{t.host}</b> to confirm
      </label>
      <input id="force-confirm" name="confirm" type="text" autocomplete="off" required />
      <div class="actions">
        <button type="submit" class="btn btn-danger">
          Force rotation past the gate
        </button>
      </div>
    </form>
  );
}

export function RotationHistory(props: { rotations: Rotation[]; now: number }) {
  return (
    <Table
      class="table table-rotations"
      head={['When', 'Host', 'New key', 'Gate', 'By', 'Reason']}
      phoneHidden={[2, 3, 6]}
      empty="No rotation recorded for this fleet."
      rows={props.rotations.map((x) => (
        <tr data-rotation={x.id}>
          <td class="muted">
            <Ago at={x.recordedAt} now={props.now} />
          </td>
          <td>{x.host}</td>
          <td class="mono" title={x.pin}>
            {shortPin(x.pin)}
          </td>
          <td>
            {x.forced ? <Badge kind="bad">forced</Badge> : <Badge kind="ok">met</Badge>}{' '}
            <span class="small muted">
              {x.coverage !== null ? pct(x.coverage) : '—'} of {x.target !== null ? pct(x.target) : '—'}, {x.atRisk ?? '—'} at risk
            </span>
          </td>
          <td>{x.recordedBy}</td>
          <td>{x.reason ?? ''}</td>
        </tr>
      ))}
    />
  );
}
