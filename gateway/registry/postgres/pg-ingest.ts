import { telemetryBucket } from '../telemetry-buckets';
import type { IngestAck, IngestBatch, IngestReport } from '../repositories';
import { CounterDeltas, raiseSets } from '../counted-sets';
import type { PgCoverage } from './pg-coverage';
import { rows, run, type Queryable } from './pg-pool';

const key = (...parts: (string | number)[]) => parts.join('\u0000');

/** Sorted by key, so that concurrent batches (two gateways) take row and index locks in the same order. */
function sortedBy<T>(items: readonly T[], k: (t: T) => string): T[] {
  return [...items].sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

/**
 * IngestRepo.writeBatch on PostgreSQL, inside the caller's transaction: a fixed number of set-based statements
 * per batch, whatever its size (multi-row INSERT … SELECT FROM unnest(arrays)), and as few round trips as the
 * rules allow: acks + per-set counts in one statement, the device rows locked in a second, the device rows and
 * both coverage counter tables in a third (data-modifying CTEs). Under load the batch's time is mostly round trips
 * waiting for a CPU (docs/postgres.md "What bounds the ack ingest"). Idempotent under concurrent
 * writers: the acks' unique index decides which connection's row is new (ON CONFLICT DO NOTHING RETURNING), and
 * only new rows move the counters (`count = t.count + excluded.count`).
 */
export async function writeBatchPg(db: Queryable, coverage: PgCoverage, batch: IngestBatch): Promise<{ acks: boolean[]; reports: boolean[] }> {
  const ackNew = await insertAcks(db, batch.acks);
  const reportNew = await insertReports(db, batch.reports);
  const malformed = sortedBy(batch.malformed, (m) => key(m.deviceId, m.kind, m.code));
  if (malformed.length > 0) {
    await run(
      db,
      `insert into malformed_counts (device_id, kind, code, count, last_at, last_detail)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
       on conflict (device_id, kind, code) do update
         set count = malformed_counts.count + excluded.count, last_at = excluded.last_at, last_detail = excluded.last_detail`,
      [malformed.map((m) => m.deviceId), malformed.map((m) => m.kind), malformed.map((m) => m.code), malformed.map((m) => m.count), malformed.map((m) => m.lastAt), malformed.map((m) => m.lastDetail)],
      'ingest_malformed',
    );
  }
  const fresh = batch.acks.filter((a, i) => ackNew[i] === true && a.pinsetId !== null);
  // The devices: locked once (id order), the acks' effects applied in memory in arrival order (sets only rise),
  // their counters moved, then ONE update per device row for the whole batch (sets, counted keys, last seen).
  const ids = new Set<string>([...fresh.map((a) => a.deviceId), ...batch.seen.keys()]);
  if (ids.size > 0) {
    const locked = await coverage.lock(ids);
    for (const a of fresh) {
      const d = locked.get(a.deviceId);
      if (d !== undefined) raiseSets(d, a);
    }
    const moving = [...new Set(fresh.filter((a) => a.status !== 'rejected').map((a) => a.deviceId))].map((id) => locked.get(id)).filter((d) => d !== undefined);
    const deltas = new CounterDeltas();
    const viewOf = await coverage.viewsFor(moving);
    for (const d of moving) {
      const next = deltas.move(d, viewOf);
      if (next === null) continue;
      d.countedInstalled = next.installed;
      d.countedVerified = next.verified;
    }
    const list = [...locked.values()];
    const sets = deltas.setRows();
    const pins = deltas.pinRows();
    // one statement (one round trip) for the device rows and both counter tables: the rows are locked already,
    // and the counter rows are taken in one order by every batch (same statement, keys sorted), as before
    await run(
      db,
      `with dev as (
         update devices d set installed_seq = t.iseq, installed_sha256 = t.isha, verified_seq = t.vseq, verified_sha256 = t.vsha,
           counted_installed = t.ci, counted_verified = t.cv, last_seen = coalesce(t.seen, d.last_seen)
         from unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[])
           as t(id, iseq, isha, vseq, vsha, ci, cv, seen)
         where d.id = t.id),
       sets as (
         insert into fleet_set_counts (fleet, kind, key, count)
         select * from unnest($9::text[], $10::text[], $11::text[], $12::bigint[])
         on conflict (fleet, kind, key) do update set count = fleet_set_counts.count + excluded.count)
       insert into coverage_counts (fleet, host, pin, count)
       select * from unnest($13::text[], $14::text[], $15::text[], $16::bigint[])
       on conflict (fleet, host, pin) do update set count = coverage_counts.count + excluded.count`,
      [
        list.map((d) => d.id),
        list.map((d) => d.installedSeq),
        list.map((d) => d.installedSha256),
        list.map((d) => d.verifiedSeq),
        list.map((d) => d.verifiedSha256),
        list.map((d) => d.countedInstalled),
        list.map((d) => d.countedVerified),
        list.map((d) => batch.seen.get(d.id) ?? null),
        sets.map((x) => x.fleet),
        sets.map((x) => x.kind),
        sets.map((x) => x.key),
        sets.map((x) => x.delta),
        pins.map((x) => x.fleet),
        pins.map((x) => x.host),
        pins.map((x) => x.pin),
        pins.map((x) => x.delta),
      ],
      'ingest_devices_counters',
    );
    coverage.announce(deltas);
  }
  return { acks: ackNew, reports: reportNew };
}

async function insertAcks(db: Queryable, acks: readonly IngestAck[]): Promise<boolean[]> {
  if (acks.length === 0) return [];
  const sorted = sortedBy(acks, (a) => key(a.deviceId, a.sha256, a.status));
  // the per-set counts move with the rows that are new (RETURNING: the unique index decided), in the same statement
  const inserted = await rows<{ device_id: string; sha256: string; status: string }>(
    db,
    `with ins as (
       insert into acks (device_id, sha256, seq, status, code, pinset_id, received_at)
       select * from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::bigint[])
       on conflict do nothing returning device_id, sha256, status, pinset_id),
     counted as (
       insert into pinset_ack_counts (pinset_id, status, count)
       select pinset_id, status, count(*) from ins where pinset_id is not null group by pinset_id, status order by pinset_id, status
       on conflict (pinset_id, status) do update set count = pinset_ack_counts.count + excluded.count)
     select device_id, sha256, status from ins`,
    [sorted.map((a) => a.deviceId), sorted.map((a) => a.sha256), sorted.map((a) => a.seq), sorted.map((a) => a.status), sorted.map((a) => a.code), sorted.map((a) => a.pinsetId), sorted.map((a) => a.at)],
    'ingest_acks_counted',
  );
  // a key repeated within the batch is new once: at its first position, as sequential inserts would say
  const isNew = new Set(inserted.map((r) => key(r.device_id, r.sha256, r.status)));
  return acks.map((a) => isNew.delete(key(a.deviceId, a.sha256, a.status)));
}

async function insertReports(db: Queryable, reports: readonly IngestReport[]): Promise<boolean[]> {
  if (reports.length === 0) return [];
  const sorted = sortedBy(reports, (r) => key(r.deviceId, r.host, r.port, r.deviceTime));
  const inserted = await rows<{ device_id: string; host: string; port: number; device_time: number }>(
    db,
    `insert into reports (device_id, host, port, result, served_pins, installed_seq, device_time, received_at)
     select * from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[])
     on conflict do nothing returning device_id, host, port, device_time`,
    [
      sorted.map((r) => r.deviceId),
      sorted.map((r) => r.host),
      sorted.map((r) => r.port),
      sorted.map((r) => r.result),
      sorted.map((r) => JSON.stringify(r.servedPins)),
      sorted.map((r) => r.installedSeq),
      sorted.map((r) => r.deviceTime),
      sorted.map((r) => r.at),
    ],
    'ingest_reports',
  );
  const isNew = new Set(inserted.map((r) => key(r.device_id, r.host, r.port, r.device_time)));
  const result = reports.map((r) => isNew.delete(key(r.deviceId, r.host, r.port, r.deviceTime)));
  const fresh = reports.filter((_, i) => result[i] === true);
  if (fresh.length > 0) {
    // telemetry buckets per fleet (from the device row), host and minute; grouped first so no row is hit twice
    const t = sortedBy(fresh, (r) => key(r.deviceId, r.host));
    await run(
      db,
      `insert into telemetry_buckets (fleet, host, bucket, ok, mismatch, fail_open)
       select d.fleet, t.host, t.bucket, sum(case when t.result = 'ok' then 1 else 0 end), sum(case when t.result = 'mismatch' then 1 else 0 end),
         sum(case when t.result = 'fail-open' then 1 else 0 end)
       from unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) as t(device_id, host, bucket, result) join devices d on d.id = t.device_id
       group by d.fleet, t.host, t.bucket order by 1, 2, 3
       on conflict (fleet, host, bucket) do update set ok = telemetry_buckets.ok + excluded.ok,
         mismatch = telemetry_buckets.mismatch + excluded.mismatch, fail_open = telemetry_buckets.fail_open + excluded.fail_open`,
      [t.map((r) => r.deviceId), t.map((r) => r.host), t.map((r) => telemetryBucket(r.at)), t.map((r) => r.result)],
      'ingest_telemetry',
    );
  }
  return result;
}
