import { TELEMETRY_BUCKET_MS } from '../telemetry-buckets';
import type { ReportView, TelemetryPoint, TelemetryRepo } from '../repositories';
import { rows, type Queryable } from './pg-pool';

/** Pin validation telemetry on PostgreSQL (buckets are written by the ingest: pg-ingest.ts). */
export class PgTelemetry implements TelemetryRepo {
  constructor(private readonly db: Queryable) {}

  async series(q: { fleet?: string; host?: string; bucketMs: number; sinceMs: number }): Promise<TelemetryPoint[]> {
    const args: unknown[] = [q.sinceMs - (q.sinceMs % TELEMETRY_BUCKET_MS), q.bucketMs];
    const where = ['bucket >= $1'];
    if (q.fleet !== undefined) where.push(`fleet = $${args.push(q.fleet)}`);
    if (q.host !== undefined) where.push(`host = $${args.push(q.host)}`);
    return rows<TelemetryPoint>(
      this.db,
      `select (bucket / $2::bigint) * $2::bigint as t, sum(ok) as ok, sum(mismatch) as mismatch, sum(fail_open) as "failOpen"
       from telemetry_buckets where ${where.join(' and ')} group by 1 order by 1`,
      args,
    );
  }

  async lastReports(q: { fleet?: string; host?: string; limit: number }): Promise<ReportView[]> {
    const args: unknown[] = [];
    const where: string[] = [];
    if (q.fleet !== undefined) where.push(`d.fleet = $${args.push(q.fleet)}`);
    if (q.host !== undefined) where.push(`r.host = $${args.push(q.host)}`);
    const list = await rows<Omit<ReportView, 'servedPins'> & { servedPins: string }>(
      this.db,
      `select r.id, r.device_id as "deviceId", d.fleet, r.host, r.port, r.result, r.served_pins as "servedPins", r.installed_seq as "installedSeq",
         r.device_time as "deviceTime", r.received_at as "receivedAt"
       from reports r join devices d on d.id = r.device_id ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
       order by r.id desc limit $${args.push(q.limit)}`,
      args,
    );
    return list.map((r) => ({ ...r, servedPins: JSON.parse(r.servedPins) as string[] }));
  }

  /** Each device of the rollout on `seq` that reported since `sinceMs`, once; the telemetry gate counts devices (issue 17). */
  async rolloutReporters(rolloutId: string, seq: number, sinceMs: number): Promise<{ deviceId: string; mismatch: boolean }[]> {
    return rows<{ deviceId: string; mismatch: boolean }>(
      this.db,
      `select r.device_id as "deviceId", bool_or(r.result = 'mismatch') as mismatch
       from rollout_executions e join reports r on r.device_id = e.device_id
       where e.rollout_id = $1 and r.installed_seq = $2 and r.received_at >= $3
       group by r.device_id`,
      [rolloutId, seq, sinceMs],
    );
  }
}
