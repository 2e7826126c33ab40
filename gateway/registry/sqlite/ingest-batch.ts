import type { PinSetView } from '../../coverage/index';
import { CounterDeltas, raiseSets, type CountedDevice } from '../counted-sets';
import type { IngestAck, IngestBatch } from '../repositories';
import { telemetryBucket } from '../telemetry-buckets';
import type { RegistryDb } from './open';

interface DeviceRaw {
  rid: number;
  id: string;
  fleet: string;
  decommissioned: number;
  firmware: string | null;
  installed_seq: number;
  installed_sha256: string | null;
  verified_seq: number;
  verified_sha256: string | null;
  counted_installed: string | null;
  counted_verified: string | null;
}

/**
 * The SQLite side of IngestRepo.writeBatch: one better-sqlite3 transaction of raw prepared statements per batch
 * (LIBRARY-NOTES: batched prepared statements are ~15× faster than autocommit). Per ack one INSERT (the unique
 * index makes QoS 1 redelivery idempotent); per device one read and one write whatever the number of its acks
 * (their effects applied in memory in arrival order, ../counted-sets.ts; its last-seen time in the same write);
 * each counter row written once per batch (differences summed per transition in memory).
 */
export class SqliteIngest {
  readonly writeBatch: (batch: IngestBatch) => { acks: boolean[]; reports: boolean[] };

  constructor(
    db: RegistryDb,
    options: {
      /** Keep the coverage counters (false only to measure their cost). */
      counters: boolean;
      viewOf: (sha256: string) => PinSetView | null;
      changed: (fleet: string) => void;
    },
  ) {
    const c = db.$client;
    const insertAck = c.prepare<[string, string, number, string, string | null, number | null, number]>(
      `insert into acks (device_id, sha256, seq, status, code, pinset_id, received_at) values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
    );
    const countAck = c.prepare<[number, string, number]>(
      `insert into pinset_ack_counts (pinset_id, status, count) values (?, ?, ?)
       on conflict (pinset_id, status) do update set count = pinset_ack_counts.count + excluded.count`,
    );
    // the row's rowid comes along so that its update goes straight to the row (devices has a text primary key: a
    // lookup by id is a search of its index, then of the table)
    const getDevice = c.prepare<[string], DeviceRaw>(
      `select rowid as rid, id, fleet, decommissioned, firmware, installed_seq, installed_sha256, verified_seq, verified_sha256, counted_installed, counted_verified
       from devices where id = ?`,
    );
    // last seen rides along (one write of the row per batch; the writer's `seen` holds every ack's device)
    const putDevice = c.prepare<[number, string | null, number, string | null, string | null, string | null, number | null, number]>(
      `update devices set installed_seq = ?, installed_sha256 = ?, verified_seq = ?, verified_sha256 = ?, counted_installed = ?, counted_verified = ?,
         last_seen = coalesce(?, last_seen) where rowid = ?`,
    );
    const bumpSet = c.prepare<[string, string, string, number]>(
      `insert into fleet_set_counts (fleet, kind, key, count) values (?, ?, ?, ?)
       on conflict (fleet, kind, key) do update set count = fleet_set_counts.count + excluded.count`,
    );
    const bumpPin = c.prepare<[string, string, string, number]>(
      `insert into coverage_counts (fleet, host, pin, count) values (?, ?, ?, ?)
       on conflict (fleet, host, pin) do update set count = coverage_counts.count + excluded.count`,
    );
    const insertReport = c.prepare<[string, string, number, string, string, number, number, number]>(
      `insert into reports (device_id, host, port, result, served_pins, installed_seq, device_time, received_at) values (?, ?, ?, ?, ?, ?, ?, ?)
       on conflict do nothing`,
    );
    // the fleet comes from the device row (a report carries none); `where true` keeps SQLite's upsert parser happy
    const bumpTelemetry = c.prepare<[string, number, number, number, number, string]>(
      `insert into telemetry_buckets (fleet, host, bucket, ok, mismatch, fail_open)
       select fleet, ?, ?, ?, ?, ? from devices where id = ? and true
       on conflict (fleet, host, bucket) do update set ok = telemetry_buckets.ok + excluded.ok,
         mismatch = telemetry_buckets.mismatch + excluded.mismatch, fail_open = telemetry_buckets.fail_open + excluded.fail_open`,
    );
    const countMalformed = c.prepare<[string, string, string, number, number, string]>(
      `insert into malformed_counts (device_id, kind, code, count, last_at, last_detail) values (?, ?, ?, ?, ?, ?)
       on conflict (device_id, kind, code) do update
         set count = malformed_counts.count + excluded.count, last_at = excluded.last_at, last_detail = excluded.last_detail`,
    );
    const touch = c.prepare<[number, string]>(`update devices set last_seen = ? where id = ?`);

    const tx = c.transaction((batch: IngestBatch) => {
      const acks: boolean[] = [];
      const counts = new Map<string, { pinsetId: number; status: string; n: number }>();
      const devices = new Map<string, { rid: number; row: CountedDevice; move: boolean }>();
      for (const a of batch.acks) {
        const isNew = insertAck.run(a.deviceId, a.sha256, a.seq, a.status, a.code, a.pinsetId, a.at).changes === 1;
        acks.push(isNew);
        if (!isNew || a.pinsetId === null) continue;
        const k = `${a.pinsetId}\u0000${a.status}`;
        const n = counts.get(k);
        if (n) n.n++;
        else counts.set(k, { pinsetId: a.pinsetId, status: a.status, n: 1 });
        applyAck(a);
      }
      function applyAck(a: IngestAck): void {
        let d = devices.get(a.deviceId);
        if (d === undefined) {
          const raw = getDevice.get(a.deviceId);
          if (raw === undefined) return;
          d = { rid: raw.rid, row: toCounted(raw), move: false };
          devices.set(a.deviceId, d);
        }
        raiseSets(d.row, a);
        if (a.status !== 'rejected') d.move = true;
      }
      for (const x of counts.values()) countAck.run(x.pinsetId, x.status, x.n);
      const deltas = new CounterDeltas();
      for (const { rid, row, move } of devices.values()) {
        if (options.counters && move) {
          const next = deltas.move(row, options.viewOf);
          if (next !== null) {
            row.countedInstalled = next.installed;
            row.countedVerified = next.verified;
          }
        }
        putDevice.run(row.installedSeq, row.installedSha256, row.verifiedSeq, row.verifiedSha256, row.countedInstalled, row.countedVerified, batch.seen.get(row.id) ?? null, rid);
      }
      for (const s of deltas.setRows()) bumpSet.run(s.fleet, s.kind, s.key, s.delta);
      for (const p of deltas.pinRows()) bumpPin.run(p.fleet, p.host, p.pin, p.delta);
      const reports = batch.reports.map((r) => {
        const isNew = insertReport.run(r.deviceId, r.host, r.port, r.result, JSON.stringify(r.servedPins), r.installedSeq, r.deviceTime, r.at).changes === 1;
        if (isNew) {
          const ok = r.result === 'ok' ? 1 : 0;
          bumpTelemetry.run(r.host, telemetryBucket(r.at), ok, r.result === 'mismatch' ? 1 : 0, r.result === 'fail-open' ? 1 : 0, r.deviceId);
        }
        return isNew;
      });
      for (const m of batch.malformed) countMalformed.run(m.deviceId, m.kind, m.code, m.count, m.lastAt, m.lastDetail);
      for (const [deviceId, at] of batch.seen) if (!devices.has(deviceId)) touch.run(at, deviceId);
      return { acks, reports, fleets: deltas.fleets };
    });
    this.writeBatch = (batch) => {
      const r = tx(batch);
      for (const f of r.fleets) options.changed(f);
      return { acks: r.acks, reports: r.reports };
    };
  }
}

function toCounted(r: DeviceRaw): CountedDevice {
  return {
    id: r.id,
    fleet: r.fleet,
    decommissioned: r.decommissioned === 1,
    firmware: r.firmware,
    installedSeq: r.installed_seq,
    installedSha256: r.installed_sha256,
    verifiedSeq: r.verified_seq,
    verifiedSha256: r.verified_sha256,
    countedInstalled: r.counted_installed,
    countedVerified: r.counted_verified,
  };
}
