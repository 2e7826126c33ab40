/**
 * Pin sets (issue 15): the published sets of each fleet, newest first, with a "Create rollout" link each, and
 * publishing from the dashboard, either a JSON pin set the gateway signs (POST /api/pinsets, with its live check)
 * or an envelope signed offline with `pinctl sign` (POST /api/pinsets/envelope). The gateway's own validation
 * message is shown next to the form, with what was typed kept.
 */
import type { PinSetSummary } from '../api/api-types';
import { Ago } from '../components/ago';
import { CsrfInput, ErrorAlert, FleetSelect } from '../components/forms';
import { shortPin } from '../components/format';
import { Badge, Table } from '../components/table';
import { Layout, PageHeader, type View } from './layout';

export const EXAMPLE_PINSET = JSON.stringify(
  {
    target: { fleet: 'thermostats' },
    hosts: [{ name: 'api.example.com', includeSubdomains: false, enforce: true, pins: ['sha256/<current key>', 'sha256/<backup key>'] }],
  },
  null,
  2,
);

export interface PublishForm {
  readonly json: string;
  readonly error?: string;
  /** Which form the error belongs to. */
  readonly errorFor?: 'json' | 'envelope';
}

function PublishPanel(props: { view: View; form: PublishForm }) {
  const { view, form } = props;
  if (!view.canPublish) return <p class="muted small read-only">Read-only: publishing pin sets needs the publisher role.</p>;
  return (
    <div class="publish-grid">
      <form method="post" action="/pinsets" class="stack panel" id="publish-json">
        <h2>Publish a pin set (JSON, signed by the gateway)</h2>
        <CsrfInput token={view.csrf} />
        {form.errorFor === 'json' ? <ErrorAlert error={form.error} /> : null}
        <label for="pinset-json">Pin set JSON (seq, issuedAt, notAfter and keysetVersion are filled in when left out)</label>
        <textarea id="pinset-json" name="json" rows={12} spellcheck={false} class="mono" required>
          {form.json === '' ? EXAMPLE_PINSET : form.json}
        </textarea>
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Sign and publish
          </button>
        </div>
      </form>
      <form method="post" action="/pinsets/envelope" enctype="multipart/form-data" class="stack panel" id="publish-envelope">
        <h2>Upload an envelope signed offline</h2>
        <CsrfInput token={view.csrf} />
        {form.errorFor === 'envelope' ? <ErrorAlert error={form.error} /> : null}
        <label for="envelope">
          The <span class="mono">.cose</span> file written by <span class="mono">pinctl sign</span> (at most 16,384 bytes)
        </label>
        <input id="envelope" name="envelope" type="file" accept=".cose,application/cose" required />
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Verify and publish
          </button>
        </div>
      </form>
    </div>
  );
}

export function PinSetsPage(props: { view: View; pinsets: PinSetSummary[]; fleets: string[]; fleet: string; form: PublishForm; notice?: string }) {
  const { view } = props;
  return (
    <Layout title="Pin sets" section="pinsets" view={view} live={props.form.error === undefined}>
      <PageHeader title="Pin sets" subtitle="Signed pin sets per fleet, newest first. A set reaches devices through a rollout." />
      {props.notice !== undefined ? (
        <p class="alert alert-ok notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <PublishPanel view={view} form={props.form} />
      <form method="get" action="/pinsets" class="filters">
        <FleetSelect fleets={props.fleets} selected={props.fleet} />
        <button type="submit" class="btn btn-plain">
          Filter
        </button>
      </form>
      <div id="pinset-list" class="panel panel-table" data-live>
        <Table
          head={['Fleet', 'Seq', 'Hosts and pins', 'Source', 'Created', 'Released', '']}
          phoneHidden={[4, 5, 6]}
          empty="No pin sets published yet."
          rows={props.pinsets.map((p) => (
            <tr data-pinset={p.id}>
              <td>{p.fleet}</td>
              <td class="num">{p.seq}</td>
              <td class="small">
                {p.hosts.map((h) => (
                  <div>
                    <span class="mono">{h.name}</span> {h.enforce ? <Badge kind="info">enforced</Badge> : <Badge kind="muted">report only</Badge>}{' '}
                    {h.pins.map((pin) => (
                      <span class="mono pin" title={pin}>
                        {shortPin(pin)}
                      </span>
                    ))}
                  </div>
                ))}
              </td>
              <td class="source">{p.source === 'offline' ? 'signed offline' : p.source === 'gateway' ? 'signed by the gateway' : p.source}</td>
              <td class="muted">
                <Ago at={p.createdAt} now={view.now} /> by {p.createdBy}
              </td>
              <td>{p.releasedAt !== null ? <Badge kind="ok">released</Badge> : <span class="muted">held for rollouts</span>}</td>
              <td>
                {view.canOperate ? (
                  <a class="btn btn-plain" href={`/rollouts/new?pinsetId=${p.id}`}>
                    Create rollout…
                  </a>
                ) : null}
              </td>
            </tr>
          ))}
        />
      </div>
    </Layout>
  );
}
