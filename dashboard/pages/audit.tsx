/**
 * The gateway's append-only audit log: who did what, when, filtered by actor, action and target (issue 15);
 * targets link to what they name (rollout, device, pin set, rotation gate), details are put into words.
 */
import type { AuditEntry, Page } from '../api/api-types';
import { describeAudit } from '../components/audit-text';
import { Table } from '../components/table';
import { fmtTime } from '../components/format';
import { Layout, PageHeader, type View } from './layout';

export interface AuditFilter {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly cursor: string;
}

export const AUDIT_ACTIONS = [
  ['rollout.', 'every rollout action'],
  ['rotation.', 'every rotation'],
  ['pinset.', 'pin sets'],
  ['device.', 'devices'],
  ['access.refused', 'refused for the role'],
  ['token.', 'tokens'],
  ['keyset.', 'keysets'],
] as const;

export function auditUrl(f: AuditFilter, cursor = ''): string {
  const p = new URLSearchParams();
  for (const k of ['actor', 'action', 'target'] as const) if (f[k] !== '') p.set(k, f[k]);
  if (cursor !== '') p.set('cursor', cursor);
  const s = p.toString();
  return s === '' ? '/audit' : `/audit?${s}`;
}

/** Where an entry's target lives in the dashboard, if anywhere. */
function targetHref(e: AuditEntry): string | null {
  const t = e.target;
  if (t === null) return null;
  if (e.action.startsWith('rollout.')) return `/rollouts/${encodeURIComponent(t)}`;
  if (e.action.startsWith('device.')) return `/devices/${encodeURIComponent(t)}`;
  if (e.action.startsWith('pinset.')) return `/pinsets?fleet=${encodeURIComponent(t.split('#')[0] ?? '')}`;
  if (e.action.startsWith('rotation.')) {
    const [fleet, host] = t.split('/');
    const pin = typeof e.detail?.['pin'] === 'string' ? e.detail['pin'] : '';
    return fleet !== undefined && host !== undefined && pin !== '' ? `/rotation?${new URLSearchParams({ fleet, host, pin }).toString()}` : null;
  }
  return null;
}

export function AuditPage(props: { view: View; page: Page<AuditEntry>; filter: AuditFilter }) {
  const f = props.filter;
  return (
    <Layout title="Audit log" section="audit" view={props.view}>
      <PageHeader title="Audit log" subtitle="Every change made through the API, and every refusal, newest first. Entries are never edited." />
      <form method="get" action="/audit" class="filters" id="audit-filters">
        <label>
          Actor
          <input type="text" name="actor" value={f.actor} placeholder="token name or gateway" />
        </label>
        <label>
          Action
          <input type="text" name="action" value={f.action} list="audit-actions" placeholder="rollout. or rollout.pause" />
          <datalist id="audit-actions">
            {AUDIT_ACTIONS.map(([v, label]) => (
              <option value={v}>{label}</option>
            ))}
          </datalist>
        </label>
        <label>
          Target
          <input type="text" name="target" value={f.target} placeholder="r1, a device id, fleet/host" />
        </label>
        <button type="submit" class="btn btn-primary">
          Filter
        </button>
        <a href="/audit" class="btn btn-link">
          Reset
        </a>
      </form>
      <div id="audit" class="panel panel-table" data-live>
        <Table
          class="table table-audit"
          head={['Time', 'Actor', 'What', 'Target', 'Detail']}
          phoneHidden={[5]}
          empty="No audit entries match."
          rows={props.page.items.map((e) => {
            const d = describeAudit(e);
            const href = targetHref(e);
            return (
              <tr data-action={e.action}>
                <td class="muted nowrap">{fmtTime(e.at)}</td>
                <td>
                  <a href={auditUrl({ ...f, actor: e.actor, cursor: '' })}>{e.actor}</a>
                </td>
                <td>
                  {d.verb} <span class="mono small muted">{e.action}</span>
                </td>
                <td class="mono">{e.target === null ? '—' : href !== null ? <a href={href}>{e.target}</a> : e.target}</td>
                <td class="small detail">{d.detail}</td>
              </tr>
            );
          })}
        />
        <nav class="pager" aria-label="pages">
          {f.cursor !== '' ? <a href={auditUrl(f)}>« Newest</a> : <span class="muted">Newest</span>}
          {props.page.nextCursor !== null ? (
            <a href={auditUrl(f, props.page.nextCursor)} rel="next">
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
