/**
 * The devices of one rollout in some execution states, e.g. the queued (offline) devices of wave 2 or every
 * rejected device: "why isn't it moving?" answered with links to each device (issue 15).
 */
import type { Execution, Page, Rollout } from '../api/api-types';
import { Badge, Table } from '../components/table';
import { Ago } from '../components/ago';
import { describeCode } from '../components/error-codes';
import { Layout, PageHeader, type View } from './layout';
import { executionsUrl } from './rollout-waves';
import { DeviceLink } from '../components/device-link';

export interface ExecutionFilter {
  readonly state: string;
  readonly wave: number | undefined;
  readonly cursor: string;
}

const STATE_LABEL: Record<string, string> = {
  QUEUED: 'queued: offline, or waiting for its turn (rate limit, retry back-off)',
  DELIVERED: 'delivered, no answer yet',
  APPLIED: 'applied, not verified yet',
  VERIFIED: 'verified',
  REJECTED: 'rejected by the device',
  TIMED_OUT: 'timed out',
  SUPERSEDED: 'superseded by a newer rollout',
};

const KIND: Record<string, string> = { VERIFIED: 'ok', REJECTED: 'bad', TIMED_OUT: 'bad', QUEUED: 'muted', SUPERSEDED: 'muted' };

export function RolloutDevicesPage(props: { view: View; r: Rollout; filter: ExecutionFilter; page: Page<Execution> }) {
  const { r, filter, page, view } = props;
  const states = filter.state === '' ? [] : filter.state.split(',');
  const title = `${states.map((s) => s.toLowerCase().replace('_', ' ')).join(' or ') || 'all'} devices`;
  const q = { ...(filter.state !== '' ? { state: filter.state } : {}), ...(filter.wave !== undefined ? { wave: filter.wave } : {}) };
  return (
    <Layout title={`Rollout ${r.id}: ${title}`} section="rollouts" view={view}>
      <PageHeader
        title={`Rollout ${r.id}: ${title}`}
        subtitle={
          <>
            {filter.wave !== undefined ? `wave ${filter.wave + 1} · ` : 'every wave · '}
            <a href={`/rollouts/${encodeURIComponent(r.id)}`}>back to the rollout</a>
            {states.map((s) => (STATE_LABEL[s] !== undefined ? ` · ${s.toLowerCase()}: ${STATE_LABEL[s]}` : ''))}
          </>
        }
      />
      <div id="executions" class="panel panel-table" data-live>
        <Table
          head={['Device', 'Wave', 'State', 'Detail', 'Attempts', 'Since']}
          phoneHidden={[2, 5, 6]}
          empty="No device of this rollout is in that state."
          rows={page.items.map((e) => (
            <tr data-device={e.deviceId}>
              <td>
                <DeviceLink id={e.deviceId} />
              </td>
              <td class="num">{e.wave + 1}</td>
              <td>
                <Badge kind={KIND[e.kind] ?? 'info'}>{e.kind.toLowerCase().replace('_', ' ')}</Badge>
              </td>
              <td class="small">
                {e.code !== null ? (
                  <>
                    <span class="mono">{e.code}</span>: {describeCode(e.code)}
                  </>
                ) : e.phase !== null ? (
                  `no answer in the ${e.phase} phase`
                ) : (
                  ''
                )}
              </td>
              <td class="num">{e.attempts}</td>
              <td class="muted">
                <Ago at={e.at} now={view.now} />
              </td>
            </tr>
          ))}
        />
        <nav class="pager" aria-label="pages">
          {filter.cursor !== '' ? <a href={executionsUrl(r, q)}>« First page</a> : <span class="muted">First page</span>}
          {page.nextCursor !== null ? (
            <a href={`${executionsUrl(r, q)}${filter.state !== '' || filter.wave !== undefined ? '&' : '?'}cursor=${encodeURIComponent(page.nextCursor)}`} rel="next">
              Next page »
            </a>
          ) : (
            <span class="muted">last page</span>
          )}
        </nav>
      </div>
    </Layout>
  );
}
