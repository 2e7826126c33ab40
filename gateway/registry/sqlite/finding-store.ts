import { diffFindings, openOrder, type FindingFilter, type FindingReplace, type FindingReplaceResult, type FindingRow, type FindingSource } from '../finding-repo';
import type { RegistryDb } from './open';

interface Raw {
  key: string;
  source: string;
  kind: string;
  severity: string;
  fleet: string | null;
  host: string;
  summary: string;
  detail: string;
  first_seen_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

const COLUMNS = 'key, source, kind, severity, fleet, host, summary, detail, first_seen_at, last_seen_at, resolved_at, acknowledged_at, acknowledged_by';

const toRow = (r: Raw): FindingRow => ({
  key: r.key,
  source: r.source as FindingRow['source'],
  kind: r.kind as FindingRow['kind'],
  severity: r.severity as FindingRow['severity'],
  fleet: r.fleet,
  host: r.host,
  summary: r.summary,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
  firstSeenAt: r.first_seen_at,
  lastSeenAt: r.last_seen_at,
  resolvedAt: r.resolved_at,
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
});

/** Drift/CT findings on SQLite (replica-state-schema.ts); one process per file, each run one transaction. */
export class FindingStore {
  constructor(private readonly db: RegistryDb) {}

  replace(source: FindingSource, r: FindingReplace): FindingReplaceResult {
    const c = this.db.$client;
    return c.transaction((): FindingReplaceResult => {
      const open = c.prepare<[string], Raw>(`select ${COLUMNS} from findings where source = ? and resolved_at is null`).all(source).map(toRow);
      const { raised, seen, gone } = diffFindings(open, r);
      const insert = c.prepare(
        `insert into findings (key, source, kind, severity, fleet, host, summary, detail, first_seen_at, last_seen_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const refresh = c.prepare(
        `update findings set kind = ?, severity = ?, fleet = ?, host = ?, summary = ?, detail = ?, last_seen_at = ? where key = ? and resolved_at is null`,
      );
      const resolve = c.prepare(`update findings set resolved_at = ? where key = ? and resolved_at is null`);
      for (const f of raised) insert.run(f.key, source, f.kind, f.severity, f.fleet, f.host, f.summary, JSON.stringify(f.detail), r.now, r.now);
      for (const f of seen) refresh.run(f.kind, f.severity, f.fleet, f.host, f.summary, JSON.stringify(f.detail), r.now, f.key);
      for (const f of gone) resolve.run(r.now, f.key);
      c.prepare(`delete from findings where resolved_at is not null and resolved_at < ?`).run(r.now - r.retainResolvedMs);
      const stillOpen = (c.prepare<[string], { n: number }>(`select count(*) as n from findings where source = ? and resolved_at is null`).get(source)?.n ?? 0);
      return {
        raised: raised.map((f) => ({ ...f, source, firstSeenAt: r.now, lastSeenAt: r.now, resolvedAt: null, acknowledgedAt: null, acknowledgedBy: null })),
        cleared: gone.map((f) => ({ ...f, resolvedAt: r.now })),
        open: stillOpen,
      };
    }).immediate();
  }

  list(filter: FindingFilter, resolvedLimit: number): { open: FindingRow[]; resolved: FindingRow[] } {
    const c = this.db.$client;
    const source = filter.source ?? null;
    const fleet = filter.fleet ?? null;
    const host = filter.host?.toLowerCase() ?? null;
    const where = `(@source is null or source = @source) and (@fleet is null or fleet = @fleet) and (@host is null or host = @host)`;
    const open = c
      .prepare<{ source: string | null; fleet: string | null; host: string | null }, Raw>(`select ${COLUMNS} from findings where resolved_at is null and ${where}`)
      .all({ source, fleet, host })
      .map(toRow)
      .sort(openOrder);
    const resolved = c
      .prepare<{ source: string | null; fleet: string | null; host: string | null; limit: number }, Raw>(
        `select ${COLUMNS} from findings where resolved_at is not null and ${where} order by resolved_at desc, id desc limit @limit`,
      )
      .all({ source, fleet, host, limit: resolvedLimit })
      .map(toRow);
    return { open, resolved };
  }

  acknowledge(key: string, by: string, now: number): FindingRow | undefined {
    const r = this.db.$client
      .prepare<[number, string, string], Raw>(
        `update findings set acknowledged_at = coalesce(acknowledged_at, ?), acknowledged_by = coalesce(acknowledged_by, ?)
         where key = ? and resolved_at is null returning ${COLUMNS}`,
      )
      .get(now, by, key);
    return r === undefined ? undefined : toRow(r);
  }

  recordRun(source: FindingSource, run: string, endedAt: number): void {
    this.db.$client
      .prepare(
        `insert into watch_runs (source, run, ended_at) values (?, ?, ?)
         on conflict (source) do update set run = excluded.run, ended_at = excluded.ended_at where watch_runs.ended_at <= excluded.ended_at`,
      )
      .run(source, run, endedAt);
  }

  lastRuns(): Partial<Record<FindingSource, string>> {
    const rows = this.db.$client.prepare<[], { source: FindingSource; run: string }>(`select source, run from watch_runs`).all();
    return Object.fromEntries(rows.map((r) => [r.source, r.run]));
  }
}
