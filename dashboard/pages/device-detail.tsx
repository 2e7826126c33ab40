/** One device: what it told the gateway (hello), what it installed and verified, and its history of acks and reports. */
import type { DeviceDetail } from '../api/api-types';
import { Badge, Table } from '../components/table';
import { ErrorAlert, PostButton } from '../components/forms';
import { fmtTime, shortPin } from '../components/format';
import { Ago } from '../components/ago';
import { describeCode } from '../components/error-codes';
import { OnlineBadge } from './devices';
import { Layout, PageHeader, type View } from './layout';

const RESULT_BADGE: Record<string, string> = { ok: 'ok', mismatch: 'bad', 'fail-open': 'warn', verified: 'ok', applied: 'info', rejected: 'bad' };

/** The device's last refusal (newest rejected ack), in words (issue 15). */
function LastError(props: { d: DeviceDetail }) {
  const last = props.d.history.find((h) => h.kind === 'ack' && h.status === 'rejected');
  if (last === undefined || last.kind !== 'ack' || last.code === null) return null;
  return (
    <p class="alert alert-error last-error">
      Last refusal: seq {last.seq} was rejected with <span class="mono">{last.code}</span>: {describeCode(last.code)}.
    </p>
  );
}

function DeviceRollouts(props: { d: DeviceDetail }) {
  return (
    <Table
      class="table table-device-rollouts"
      head={['Rollout', 'Seq', 'Rollout state', 'Wave', 'This device']}
      empty="No rollout has reached this device."
      rows={props.d.rollouts.map((r) => (
        <tr data-rollout={r.id}>
          <td>
            <a href={`/rollouts/${encodeURIComponent(r.id)}`} class="mono">
              {r.id}
            </a>
          </td>
          <td class="num">{r.seq ?? '—'}</td>
          <td>{r.state.toLowerCase()}</td>
          <td class="num">{r.wave + 1}</td>
          <td>
            <Badge kind={RESULT_BADGE[r.kind.toLowerCase()] ?? (r.kind === 'TIMED_OUT' ? 'bad' : 'info')}>{r.kind.toLowerCase().replace('_', ' ')}</Badge>
            {r.code !== null ? (
              <span class="small">
                {' '}
                <span class="mono">{r.code}</span>: {describeCode(r.code)}
              </span>
            ) : null}
          </td>
        </tr>
      ))}
    />
  );
}

/**
 * The device's security counters since the gateway started (issue 17): refused and throttled log-ins, session
 * takeovers (the second connection's address and time), telemetry reports dropped. Non-zero figures are marked.
 */
function DeviceSecurity(props: { d: DeviceDetail; now: number }) {
  const s = props.d.security;
  if (s === null) return null;
  const mark = (n: number) => (n > 0 ? 'bad-text' : undefined);
  const last = (at: number | null, from: string | null) =>
    at === null ? null : (
      <span class="small muted">
        {' '}
        · last <Ago at={at} now={props.now} />
        {from !== null ? <> from <span class="mono">{from}</span></> : null}
      </span>
    );
  const dropped = s.reportsDropped;
  return (
    <section class="panel device-security">
      <h2>Security (since the gateway started)</h2>
      <dl class="facts">
        <div>
          <dt>Refused log-ins</dt>
          <dd class={mark(s.authFailures + s.throttled)}>
            <span class="count" data-security="authFailures">{s.authFailures}</span> wrong credential, <span class="count" data-security="throttled">{s.throttled}</span> throttled
            {last(s.lastFailureAt, s.lastFailureFrom)}
          </dd>
        </div>
        <div>
          <dt>Session takeovers</dt>
          <dd class={mark(s.takeovers)}>
            <span class="count" data-security="takeovers">{s.takeovers}</span>
            {s.lastTakeoverAt !== null ? (
              <span class="small muted">
                {' '}
                · last: second connection from <span class="mono" data-security="lastTakeoverFrom">{s.lastTakeoverFrom ?? '?'}</span> at <span data-security="lastTakeoverAt">{fmtTime(s.lastTakeoverAt)}</span>
              </span>
            ) : null}
          </dd>
        </div>
        {dropped !== null ? (
          <div>
            <dt>Telemetry reports dropped</dt>
            <dd class={mark(dropped.duplicate + dropped.overLimit)}>
              <span class="count" data-security="reportsOverLimit">{dropped.overLimit}</span> over the per-device cap,{' '}
              <span class="count" data-security="reportsDuplicate">{dropped.duplicate}</span> duplicates
            </dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}

/** Operators retire a device (reason required, audited) or bring it back; the gateway does the rest. */
function DecommissionAction(props: { view: View; d: DeviceDetail }) {
  const { d, view } = props;
  if (!view.canOperate) return null;
  const action = `/devices/${encodeURIComponent(d.deviceId)}/${d.decommissioned ? 'recommission' : 'decommission'}`;
  return d.decommissioned ? (
    <PostButton action={action} csrf={view.csrf} label="Recommission" kind="primary" />
  ) : (
    <PostButton action={action} csrf={view.csrf} label="Decommission" kind="danger"
      confirm={`Decommission ${d.deviceId}? Its credential stops working and it leaves coverage (reversible).`}>
      <input name="reason" required maxlength={500} placeholder="reason (audited)" aria-label="Reason" />
    </PostButton>
  );
}

export function DeviceDetailPage(props: { view: View; d: DeviceDetail; error?: string }) {
  const { d, view } = props;
  return (
    <Layout title={`Device ${d.deviceId}`} section="devices" view={view}>
      <PageHeader title={`Device ${d.deviceId}`} subtitle={<>fleet <b>{d.fleet}</b> · class <b>{d.deviceClass}</b></>} />
      <ErrorAlert error={props.error} />
      <div id="device" data-live>
        <section class="panel">
          <DecommissionAction view={view} d={d} />
          <dl class="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <OnlineBadge online={d.online} /> last seen <Ago at={d.lastSeen} now={view.now} />
              </dd>
            </div>
            <div>
              <dt>Firmware</dt>
              <dd class="firmware">{d.firmware ?? '—'}</dd>
            </div>
            <div>
              <dt>Installed seq</dt>
              <dd>{d.installedSeq}</dd>
            </div>
            <div>
              <dt>Verified seq</dt>
              <dd>{d.verifiedSeq}</dd>
            </div>
            <div>
              <dt>Keyset version</dt>
              <dd>{d.keysetVersion}</dd>
            </div>
            {d.state !== null ? (
              <div>
                <dt>Rollout state</dt>
                <dd>{d.state}</dd>
              </div>
            ) : null}
            <div>
              <dt>Labels</dt>
              <dd>{d.labels.length > 0 ? d.labels.join(', ') : '—'}</dd>
            </div>
            {d.flaggedReason !== null ? (
              <div>
                <dt>Flagged</dt>
                <dd class="bad-text">{d.flaggedReason}</dd>
              </div>
            ) : null}
            {d.decommissioned ? (
              <div>
                <dt>Decommissioned</dt>
                <dd>yes</dd>
              </div>
            ) : null}
          </dl>
        </section>
        <LastError d={d} />
        <DeviceSecurity d={d} now={view.now} />
        <section class="panel panel-table">
          <h2>Rollouts</h2>
          <DeviceRollouts d={d} />
        </section>
        <section class="panel">
          <h2>History</h2>
          <Table
            head={['Time', 'Event', 'Result', 'Details']}
            empty="Nothing received from this device yet."
            rows={d.history.map((h) => (
              <tr>
                <td class="muted nowrap">{fmtTime(h.at)}</td>
                {h.kind === 'ack' ? (
                  <>
                    <td>ack seq {h.seq}</td>
                    <td>
                      <Badge kind={RESULT_BADGE[h.status] ?? 'muted'}>{h.status}</Badge>
                    </td>
                    <td class="mono small">
                      {h.code !== null ? <span title={describeCode(h.code)}>{`${h.code} `}</span> : ''}
                      {h.sha256 !== null ? `sha256 ${h.sha256.slice(0, 16)}…` : ''}
                    </td>
                  </>
                ) : h.kind === 'report' ? (
                  <>
                    <td>
                      report {h.host}:{h.port}
                    </td>
                    <td>
                      <Badge kind={RESULT_BADGE[h.result] ?? 'muted'}>{h.result}</Badge>
                    </td>
                    <td class="mono small">
                      seq {h.installedSeq} · served {h.servedPins.map(shortPin).join(', ') || '—'}
                    </td>
                  </>
                ) : (
                  <>
                    <td>event</td>
                    <td></td>
                    <td class="mono small">{h.text}</td>
                  </>
                )}
              </tr>
            ))}
          />
        </section>
      </div>
    </Layout>
  );
}
