/**
 * Pin lifecycle safety (issue 16): the emergency kill switch (typed confirmation), the drift and CT findings,
 * and the guided rotation plans with their next step. Regions marked data-live refresh on gateway events
 * (kill-switch coverage, findings, plan steps).
 */
import type { FindingView, KillSwitchView, MismatchView, PlanView } from '../api/lifecycle-client';
import { Badge, Table } from '../components/table';
import { ago, fmtTime, pct, shortPin } from '../components/format';
import { CsrfInput, ErrorAlert, PostButton } from '../components/forms';
import { Layout, PageHeader, type View } from './layout';

export interface LifecycleData {
  kills: KillSwitchView[];
  findings: { open: FindingView[]; resolved: FindingView[] };
  plans: PlanView[];
  mismatches: MismatchView[];
  fleets: string[];
}

function KillSwitchForm(props: { view: View; fleets: string[]; form: Record<string, string> }) {
  const f = props.form;
  return (
    <form method="post" action="/lifecycle/kill-switch" class="panel kill-form" id="kill-switch-form">
      <CsrfInput token={props.view.csrf} />
      <h2>Emergency kill switch</h2>
      <p class="muted">
        Stops pinning of one host in one fleet now: a signed set without enforcement for that host goes to every device at
        once, bypassing waves, and running rollouts of the fleet are aborted. A later normal rollout re-enables pinning.
      </p>
      <label>
        Fleet
        <select name="fleet" required>
          {props.fleets.map((x) => (
            <option value={x} selected={x === f['fleet']}>
              {x}
            </option>
          ))}
        </select>
      </label>
      <label>
        Host
        <input name="host" required value={f['host'] ?? ''} placeholder="api.example.com" />
      </label>
      <label>
        Mode
        <select name="mode">
          <option value="fail-open" selected={f['mode'] !== 'unpin'}>
            fail-open (keep reporting, stop enforcing)
          </option>
          <option value="unpin" selected={f['mode'] === 'unpin'}>
            unpin (remove the host)
          </option>
        </select>
      </label>
      <label>
        Reason (audited)
        <input name="reason" required minlength={3} value={f['reason'] ?? ''} placeholder="INC-123: server key compromised" />
      </label>
      <label>
        Type the host name again to confirm
        <input name="confirm" required autocomplete="off" value="" />
      </label>
      <button type="submit" class="btn btn-danger" disabled={!props.view.canOperate}>
        Stop enforcing now
      </button>
    </form>
  );
}

function Kills(props: { kills: KillSwitchView[]; now: number }) {
  return (
    <section class="panel" id="kill-switches" data-live>
      <h2>Kill switches</h2>
      <Table
        head={['Fleet / host', 'Mode', 'Reason', 'Online devices with it', 'Whole fleet', 'Engaged', 'Pinning']}
        phoneHidden={[2, 3, 5, 6]}
        empty="No kill switch engaged."
        rows={props.kills.map((k) => (
          <tr data-kill={k.id}>
            <td>
              {k.fleet} / {k.host}
            </td>
            <td>{k.mode}</td>
            <td>{k.reason}</td>
            <td class="kill-online">
              {k.coverage.onlineHave} / {k.coverage.online} ({pct(k.coverage.percentOnline)})
            </td>
            <td>
              {k.coverage.have} / {k.coverage.total} ({pct(k.coverage.percentFleet)})
            </td>
            <td title={fmtTime(k.createdAt)}>
              {ago(k.createdAt, props.now)} by {k.createdBy}
            </td>
            <td>{k.reenabledBy === null ? <Badge kind="bad">off</Badge> : <Badge kind="ok">re-enabled by seq {k.reenabledBy.seq}</Badge>}</td>
          </tr>
        ))}
      />
    </section>
  );
}

function Findings(props: { view: View; findings: LifecycleData['findings']; now: number }) {
  const { open, resolved } = props.findings;
  return (
    <section class="panel" id="findings" data-live>
      <h2>Findings ({open.length} open)</h2>
      {props.view.canOperate ? (
        <div class="actions">
          <PostButton action="/lifecycle/run/drift-watch" csrf={props.view.csrf} label="Run drift watch now" />
          <PostButton action="/lifecycle/run/ct-watch" csrf={props.view.csrf} label="Run CT watch now" />
        </div>
      ) : null}
      <Table
        head={['Severity', 'Kind', 'Fleet', 'Host', 'What', 'Since', 'Acknowledged']}
        phoneHidden={[2, 4, 6, 7]}
        empty="No open finding: every served key is pinned and covered; no unknown certificate logged."
        rows={open.map((f) => (
          <tr data-finding={f.kind}>
            <td>
              <Badge kind={f.severity === 'critical' ? 'bad' : 'warn'}>{f.severity}</Badge>
            </td>
            <td>{f.kind}</td>
            <td>{f.fleet ?? '—'}</td>
            <td>{f.host}</td>
            <td class="wrap-anywhere">{f.summary}</td>
            <td title={fmtTime(f.firstSeenAt)}>{ago(f.firstSeenAt, props.now)}</td>
            <td data-acknowledged={f.acknowledgedAt === null ? 'no' : 'yes'}>
              {f.acknowledgedAt !== null ? (
                <span title={fmtTime(f.acknowledgedAt)}>{f.acknowledgedBy ?? ''}</span>
              ) : props.view.canOperate ? (
                <PostButton action="/lifecycle/findings/acknowledge" csrf={props.view.csrf} label="Acknowledge">
                  <input type="hidden" name="key" value={f.key} />
                </PostButton>
              ) : (
                '—'
              )}
            </td>
          </tr>
        ))}
      />
      {resolved.length > 0 ? (
        <details>
          <summary>Resolved ({resolved.length})</summary>
          <ul>
            {resolved.slice(0, 20).map((f) => (
              <li>
                {f.kind} {f.host}: resolved {ago(f.resolvedAt, props.now)}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

function Mismatches(props: { rows: MismatchView[]; now: number }) {
  return (
    <section class="panel" id="mismatches" data-live>
      <h2>Mismatch reports, classified with CT</h2>
      <p class="muted">A served key logged for our name is likely our own unannounced rotation; one no log has is likely interception.</p>
      <Table
        head={['Device', 'Fleet / host', 'Served key', 'Classification', 'Received']}
        phoneHidden={[2, 3, 5]}
        empty="No mismatch report."
        rows={props.rows.map((m) => (
          <tr data-mismatch={m.classification}>
            <td>{m.deviceId}</td>
            <td>
              {m.fleet} / {m.host}
            </td>
            <td>{m.servedPins.map(shortPin).join(', ')}</td>
            <td>
              {m.classification === 'not-logged' ? (
                <Badge kind="bad">not logged: likely interception</Badge>
              ) : (
                <Badge kind="warn">logged for our name ({m.certificates.map((c) => c.issuer).join(', ')})</Badge>
              )}
            </td>
            <td title={fmtTime(m.receivedAt)}>{ago(m.receivedAt, props.now)}</td>
          </tr>
        ))}
      />
    </section>
  );
}

function Plans(props: { view: View; plans: PlanView[] }) {
  return (
    <section class="panel" id="rotation-plans" data-live>
      <h2>Guided rotations</h2>
      <Table
        head={['Fleet / host', 'Keys', 'Step', 'Gate (next key)', 'At the planned switch', 'Next']}
        phoneHidden={[2, 5]}
        empty="No rotation plan: POST /api/rotation-plans (docs/runbook-planned-rotation.md)."
        rows={props.plans.map((p) => (
          <tr data-plan={p.id}>
            <td>
              {p.fleet} / {p.host}
            </td>
            <td>
              current {shortPin(p.currentPin)} · next {shortPin(p.nextPin)} · backup {shortPin(p.backupPin)}
              {p.newNextPin !== null ? ` · new next ${shortPin(p.newNextPin)}` : ''}
            </td>
            <td>
              <Badge kind={p.step === 'done' ? 'ok' : p.step === 'cancelled' ? 'warn' : 'info'}>{p.step}</Badge>
            </td>
            <td>
              {pct(p.gate.coverage)} of {pct(p.target)}: {p.gate.ready ? 'ready' : `${p.gate.atRisk} at risk (${p.gate.atRiskOffline} offline)`}
            </td>
            <td>{p.prediction === null ? 'no switch time' : `${fmtTime(p.prediction.at * 1000)}: ${p.prediction.atRisk} would fail (${p.prediction.atRiskOffline} offline)`}</td>
            <td>
              {p.expectedAction !== null && props.view.canOperate ? (
                <PostButton action={`/lifecycle/plans/${p.id}/${p.expectedAction}`} csrf={props.view.csrf} label={p.expectedAction} kind="primary">
                  {p.expectedAction === 'publish-next' ? <input name="newNext" required placeholder="new next key: pin, PEM key or CSR" /> : null}
                </PostButton>
              ) : (
                (p.expectedAction ?? '—')
              )}
            </td>
          </tr>
        ))}
      />
    </section>
  );
}

export function LifecyclePage(props: { view: View; data: LifecycleData; notice?: string; error?: string; form?: Record<string, string> }) {
  const now = props.view.now;
  return (
    <Layout title="Pin lifecycle" section="lifecycle" view={props.view}>
      <PageHeader title="Pin lifecycle" subtitle="Kill switch, drift and CT findings, guided rotations" />
      {props.notice !== undefined ? (
        <p class="alert alert-ok" role="status">
          {props.notice}
        </p>
      ) : null}
      <ErrorAlert error={props.error} />
      <Findings view={props.view} findings={props.data.findings} now={now} />
      <Plans view={props.view} plans={props.data.plans} />
      <Mismatches rows={props.data.mismatches} now={now} />
      <Kills kills={props.data.kills} now={now} />
      <KillSwitchForm view={props.view} fleets={props.data.fleets} form={props.form ?? {}} />
    </Layout>
  );
}
