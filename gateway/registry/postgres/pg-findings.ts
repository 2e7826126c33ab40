import type pg from 'pg';
import {
  diffFindings,
  openOrder,
  type FindingFilter,
  type FindingRepo,
  type FindingReplace,
  type FindingReplaceResult,
  type FindingRow,
  type FindingSource,
} from '../finding-repo';
import { rows } from './pg-pool';
import { inPgTransaction } from './pg-tx';

const COLUMNS = `key, source, kind, severity, fleet, host, summary, detail, first_seen_at as "firstSeenAt", last_seen_at as "lastSeenAt",
  resolved_at as "resolvedAt", acknowledged_at as "acknowledgedAt", acknowledged_by as "acknowledgedBy"`;

type Raw = Omit<FindingRow, 'detail'> & { detail: string };
const toRow = (r: Raw): FindingRow => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> });

/** Key of the transaction-level advisory lock that serialises two runs of one watch (xor the source's hash). */
const RUN_LOCK = 0x66696e64; // 'find'

/**
 * Drift/CT findings on PostgreSQL, shared by every replica (replica-state-schema.ts). A run's replace takes a
 * transaction-level advisory lock per source first, so a scheduled run on the leader and an on-demand run on
 * another replica apply their diffs one after the other (the second sees the first's rows: nothing is raised twice;
 * the partial unique index findings_open_key_uq would refuse a second open row anyway).
 */
export class PgFindings implements FindingRepo {
  constructor(private readonly pool: pg.Pool) {}

  async replace(source: FindingSource, r: FindingReplace): Promise<FindingReplaceResult> {
    return inPgTransaction(this.pool, async (c) => {
      await c.query('select pg_advisory_xact_lock($1, hashtext($2))', [RUN_LOCK, source]);
      const open = (await rows<Raw>(c, `select ${COLUMNS} from findings where source = $1 and resolved_at is null`, [source])).map(toRow);
      const { raised, seen, gone } = diffFindings(open, r);
      for (const f of raised) {
        await c.query(
          `insert into findings (key, source, kind, severity, fleet, host, summary, detail, first_seen_at, last_seen_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
          [f.key, source, f.kind, f.severity, f.fleet, f.host, f.summary, JSON.stringify(f.detail), r.now],
        );
      }
      if (seen.length > 0) {
        // one statement for every finding seen again (a run may see thousands of CT certificates)
        await c.query(
          `update findings f set kind = s.kind, severity = s.severity, fleet = s.fleet, host = s.host, summary = s.summary, detail = s.detail, last_seen_at = $2
           from jsonb_to_recordset($1::jsonb) as s(key text, kind text, severity text, fleet text, host text, summary text, detail text)
           where f.key = s.key and f.resolved_at is null`,
          [JSON.stringify(seen.map((f) => ({ ...f, detail: JSON.stringify(f.detail) }))), r.now],
        );
      }
      if (gone.length > 0) {
        await c.query(`update findings set resolved_at = $1 where key = any($2::text[]) and resolved_at is null`, [r.now, gone.map((f) => f.key)]);
      }
      await c.query(`delete from findings where resolved_at is not null and resolved_at < $1`, [r.now - r.retainResolvedMs]);
      const [n] = await rows<{ n: number }>(c, `select count(*) as n from findings where source = $1 and resolved_at is null`, [source]);
      return {
        raised: raised.map((f) => ({ ...f, source, firstSeenAt: r.now, lastSeenAt: r.now, resolvedAt: null, acknowledgedAt: null, acknowledgedBy: null })),
        cleared: gone.map((f) => ({ ...f, resolvedAt: r.now })),
        open: n?.n ?? 0,
      };
    });
  }

  async list(filter: FindingFilter, resolvedLimit: number): Promise<{ open: FindingRow[]; resolved: FindingRow[] }> {
    const where = `($1::text is null or source = $1) and ($2::text is null or fleet = $2) and ($3::text is null or host = $3)`;
    const args = [filter.source ?? null, filter.fleet ?? null, filter.host?.toLowerCase() ?? null];
    const open = (await rows<Raw>(this.pool, `select ${COLUMNS} from findings where resolved_at is null and ${where}`, args)).map(toRow).sort(openOrder);
    const resolved = (
      await rows<Raw>(this.pool, `select ${COLUMNS} from findings where resolved_at is not null and ${where} order by resolved_at desc, id desc limit $4`, [...args, resolvedLimit])
    ).map(toRow);
    return { open, resolved };
  }

  async acknowledge(key: string, by: string, now: number): Promise<FindingRow | undefined> {
    const [r] = await rows<Raw>(
      this.pool,
      `update findings set acknowledged_at = coalesce(acknowledged_at, $1), acknowledged_by = coalesce(acknowledged_by, $2)
       where key = $3 and resolved_at is null returning ${COLUMNS}`,
      [now, by, key],
    );
    return r === undefined ? undefined : toRow(r);
  }

  async recordRun(source: FindingSource, run: string, endedAt: number): Promise<void> {
    await this.pool.query(
      `insert into watch_runs (source, run, ended_at) values ($1, $2, $3)
       on conflict (source) do update set run = excluded.run, ended_at = excluded.ended_at where watch_runs.ended_at <= excluded.ended_at`,
      [source, run, endedAt],
    );
  }

  async lastRuns(): Promise<Partial<Record<FindingSource, string>>> {
    const list = await rows<{ source: FindingSource; run: string }>(this.pool, `select source, run from watch_runs`);
    return Object.fromEntries(list.map((r) => [r.source, r.run]));
  }
}
