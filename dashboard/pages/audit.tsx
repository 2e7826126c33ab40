/** The gateway's append-only audit log: who did what, when. */
import type { AuditEntry, Page } from '../api/api-types';
import { Table } from '../components/table';
import { fmtTime } from '../components/format';
import { Layout, PageHeader, type View } from './layout';

export function AuditPage(props: { view: View; page: Page<AuditEntry>; cursor: string }) {
  return (
    <Layout title="Audit log" section="audit" view={props.view}>
      <PageHeader title="Audit log" subtitle="Every change made through the API, newest first. Entries are never edited." />
      <div id="audit" class="panel panel-table" data-live>
        <Table
          class="table table-audit"
          head={['Time', 'Actor', 'Action', 'Target', 'Detail']}
          phoneHidden={[5]}
          empty="No audit entries."
          rows={props.page.items.map((e) => (
            <tr>
              <td class="muted nowrap">{fmtTime(e.at)}</td>
              <td>{e.actor}</td>
              <td class="mono">{e.action}</td>
              <td class="mono">{e.target ?? '—'}</td>
              <td class="mono small detail">{e.detail ?? ''}</td>
            </tr>
          ))}
        />
        <nav class="pager" aria-label="pages">
          {props.cursor !== '' ? <a href="/audit">« Newest</a> : <span class="muted">Newest</span>}
          {props.page.nextCursor !== null ? (
            <a href={`/audit?cursor=${encodeURIComponent(props.page.nextCursor)}`} rel="next">
              Older »
            </a>
          ) : (
            <span class="muted">oldest entry reached</span>
          )}
        </nav>
      </div>
    </Layout>
  );
}
