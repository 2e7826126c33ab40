import type { RegistryDb } from './open';
import { TELEMETRY_BUCKET_MS } from '../telemetry-buckets';
import type { ReportView, TelemetryPoint } from '../repositories';

interface ReportRowRaw {
  id: number;
  device_id: string;
  fleet: string;
  host: string;
  port: number;
  result: string;
  served_pins: string;
  installed_seq: number;
  device_time: number;
  received_at: number;
}

/**
 * Pin validation telemetry (SPEC §6 reports): ok / mismatch / fail-open counts per fleet, host and minute,
 * incremented by `count()` inside the ingest transaction that stores the report (IngestWriter), so the series
 * never disagrees with the stored reports. Reading a series touches only the buckets in its window.
 */
export class TelemetryStore {
  private readonly bump;

  constructor(private readonly db: RegistryDb) {
    // the fleet comes from the device row (a report carries none); `where true` keeps SQLite's upsert parser happy
    this.bump = db.$client.prepare<[string, number, number, number, number, string]>(
      `insert into telemetry_buckets (fleet, host, bucket, ok, mismatch, fail_open)
       select fleet, ?, ?, ?, ?, ? from devices where id = ? and true
       on conflict (fleet, host, bucket) do update set
         ok = ok + excluded.ok, mismatch = mismatch + excluded.mismatch, fail_open = fail_open + excluded.fail_open`,
    );
  }

  /** Counts one new report (call inside the ingest transaction). */
  count(deviceId: string, host: string, result: string, receivedAt: number): void {
    const bucket = receivedAt - (receivedAt % TELEMETRY_BUCKET_MS);
    this.bump.run(host, bucket, result === 'ok' ? 1 : 0, result === 'mismatch' ? 1 : 0, result === 'fail-open' ? 1 : 0, deviceId);
  }

  /** Series from `sinceMs` on, in buckets of `bucketMs` (a multiple of a minute); empty buckets are omitted. */
  series(q: { fleet?: string; host?: string; bucketMs: number; sinceMs: number }): TelemetryPoint[] {
    const where = ['bucket >= ?'];
    const args: (string | number)[] = [q.sinceMs - (q.sinceMs % TELEMETRY_BUCKET_MS)];
    if (q.fleet !== undefined) {
      where.push('fleet = ?');
      args.push(q.fleet);
    }
    if (q.host !== undefined) {
      where.push('host = ?');
      args.push(q.host);
    }
    const sql = `select (bucket / ${q.bucketMs}) * ${q.bucketMs} as t, sum(ok) as ok, sum(mismatch) as mismatch, sum(fail_open) as "failOpen"
      from telemetry_buckets where ${where.join(' and ')} group by 1 order by 1`;
    return this.db.$client.prepare<(string | number)[], TelemetryPoint>(sql).all(...args);
  }

  /** The newest reports (with the pins the host served), optionally of one fleet / host. */
  lastReports(q: { fleet?: string; host?: string; limit: number }): ReportView[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.fleet !== undefined) {
      where.push('d.fleet = ?');
      args.push(q.fleet);
    }
    if (q.host !== undefined) {
      where.push('r.host = ?');
      args.push(q.host);
    }
    const sql = `select r.id, r.device_id, d.fleet, r.host, r.port, r.result, r.served_pins, r.installed_seq, r.device_time, r.received_at
      from reports r join devices d on d.id = r.device_id ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
      order by r.id desc limit ?`;
    const rows = this.db.$client.prepare<(string | number)[], ReportRowRaw>(sql).all(...args, q.limit);
    return rows.map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      fleet: r.fleet,
      host: r.host,
      port: r.port,
      result: r.result,
      servedPins: JSON.parse(r.served_pins) as string[],
      installedSeq: r.installed_seq,
      deviceTime: r.device_time,
      receivedAt: r.received_at,
    }));
  }

  /**
   * The devices of one rollout that run `seq` and reported since `sinceMs`, each once, with whether any of its
   * reports was a mismatch: the telemetry gate counts devices, never reports (issue 17), so one device that
   * floods reports weighs as much as one that sends one.
   */
  rolloutReporters(rolloutId: string, seq: number, sinceMs: number): { deviceId: string; mismatch: boolean }[] {
    return this.db.$client
      .prepare<[string, number, number], { deviceId: string; mismatch: number }>(
        `select r.device_id as deviceId, max(r.result = 'mismatch') as mismatch
         from rollout_executions e join reports r on r.device_id = e.device_id
         where e.rollout_id = ? and r.installed_seq = ? and r.received_at >= ?
         group by r.device_id`,
      )
      .all(rolloutId, seq, sinceMs)
      .map((r) => ({ deviceId: r.deviceId, mismatch: r.mismatch === 1 }));
  }
}
