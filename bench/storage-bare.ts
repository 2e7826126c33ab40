/**
 * The bare baseline of `npm run bench -- storage` (issue 12): the rows the gateway's ack ingest writes, written
 * with the bare driver and no gateway logic, so the README can quote gateway / bare for each database.
 *
 * A slice of devices that never said hello ('unknown' installed) acknowledges one pin set: per device an
 * "applied" and a "verified" ack. Per batch of `batchRows` acks (the ingest writer's maxRows) ONE transaction:
 * - the ack rows (raw prepared INSERT per row on SQLite; one multi-row INSERT … SELECT FROM unnest on PostgreSQL,
 *   both `ON CONFLICT DO NOTHING` against the same unique index);
 * - the device rows: installed/verified seq and SHA-256, counted keys, last seen (one UPDATE per device);
 * - the counters: pinset_ack_counts, fleet_set_counts (installed 'unknown' → set, verified → set) and
 *   coverage_counts (+1 per pin of the set), one upsert per key.
 * What the bare writer knows ahead (every ack new, every device moving from 'unknown') the gateway must find out:
 * it reads the device rows, applies SPEC §8's rules and learns which acks were new. The bench reads coverage
 * afterwards through the contract, so a bare run that wrote other rows than the gateway would show in the check.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { INSTALLED_UNKNOWN } from '../gateway/registry/installed-keys';

export interface BareSlice {
  /** Device ids, in order; each sends "applied" then "verified". */
  deviceIds: string[];
  fleet: string;
  pinsetId: number;
  seq: number;
  sha256: string;
  /** The set's pins for its one host. */
  host: string;
  pins: string[];
  batchRows: number;
}

/** Wall and CPU time of this process since it was made (CPU: user + system, every thread of the process). */
export function stopwatch(): () => { ms: number; cpuMs: number } {
  const t = performance.now();
  const c = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(c);
    return { ms: performance.now() - t, cpuMs: (d.user + d.system) / 1000 };
  };
}

export interface Timing {
  ms: number;
  cpuMs: number;
}

/** Devices per transaction: a batch of `batchRows` acks holds batchRows / 2 devices (2 acks each). */
function batches(s: BareSlice): string[][] {
  const per = Math.max(1, Math.floor(s.batchRows / 2));
  const out: string[][] = [];
  for (let i = 0; i < s.deviceIds.length; i += per) out.push(s.deviceIds.slice(i, i + per));
  return out;
}

/** Time of the bare better-sqlite3 writer on the registry file (WAL: a second connection beside the gateway's). */
export function bareSqlite(file: string, s: BareSlice): Timing {
  const db = new Database(file);
  try {
    db.pragma('synchronous = NORMAL'); // as the gateway's connection (journal_mode WAL is a property of the file)
    const insertAck = db.prepare(
      `insert into acks (device_id, sha256, seq, status, code, pinset_id, received_at) values (?, ?, ?, ?, null, ?, ?) on conflict do nothing`,
    );
    const putDevice = db.prepare(
      `update devices set installed_seq = ?, installed_sha256 = ?, verified_seq = ?, verified_sha256 = ?, counted_installed = ?, counted_verified = ?, last_seen = ?
       where id = ?`,
    );
    const countAck = db.prepare(
      `insert into pinset_ack_counts (pinset_id, status, count) values (?, ?, ?)
       on conflict (pinset_id, status) do update set count = pinset_ack_counts.count + excluded.count`,
    );
    const bumpSet = db.prepare(
      `insert into fleet_set_counts (fleet, kind, key, count) values (?, ?, ?, ?)
       on conflict (fleet, kind, key) do update set count = fleet_set_counts.count + excluded.count`,
    );
    const bumpPin = db.prepare(
      `insert into coverage_counts (fleet, host, pin, count) values (?, ?, ?, ?)
       on conflict (fleet, host, pin) do update set count = coverage_counts.count + excluded.count`,
    );
    const write = db.transaction((ids: string[], at: number) => {
      for (const id of ids) {
        insertAck.run(id, s.sha256, s.seq, 'applied', s.pinsetId, at);
        insertAck.run(id, s.sha256, s.seq, 'verified', s.pinsetId, at);
      }
      for (const id of ids) putDevice.run(s.seq, s.sha256, s.seq, s.sha256, s.sha256, s.sha256, at, id);
      const n = ids.length;
      countAck.run(s.pinsetId, 'applied', n);
      countAck.run(s.pinsetId, 'verified', n);
      bumpSet.run(s.fleet, 'installed', INSTALLED_UNKNOWN, -n);
      bumpSet.run(s.fleet, 'installed', s.sha256, n);
      bumpSet.run(s.fleet, 'verified', s.sha256, n);
      for (const p of s.pins) bumpPin.run(s.fleet, s.host, p, n);
    });
    const done = stopwatch();
    for (const ids of batches(s)) write(ids, Date.now());
    return done();
  } finally {
    db.close();
  }
}

/** Time of the bare pg writer (CPU: this process only, the server's is not counted): one client, one transaction of set-based statements per batch. */
export async function barePg(url: string, s: BareSlice): Promise<Timing> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const done = stopwatch();
    for (const ids of batches(s)) {
      const at = Date.now();
      const n = ids.length;
      await client.query('begin');
      const statuses = ids.flatMap(() => ['applied', 'verified']);
      const ackIds = ids.flatMap((id) => [id, id]);
      await client.query({
        name: 'bare_acks',
        text: `insert into acks (device_id, sha256, seq, status, code, pinset_id, received_at)
               select t.d, $2, $3, t.s, null, $4, $5 from unnest($1::text[], $6::text[]) as t(d, s) on conflict do nothing`,
        values: [ackIds, s.sha256, s.seq, s.pinsetId, at, statuses],
      });
      await client.query({
        name: 'bare_devices',
        text: `update devices set installed_seq = $2, installed_sha256 = $3, verified_seq = $2, verified_sha256 = $3,
                 counted_installed = $3, counted_verified = $3, last_seen = $4 where id = any($1::text[])`,
        values: [ids, s.seq, s.sha256, at],
      });
      await client.query({
        name: 'bare_ack_counts',
        text: `insert into pinset_ack_counts (pinset_id, status, count) values ($1, 'applied', $2), ($1, 'verified', $2)
               on conflict (pinset_id, status) do update set count = pinset_ack_counts.count + excluded.count`,
        values: [s.pinsetId, n],
      });
      await client.query({
        name: 'bare_sets',
        text: `insert into fleet_set_counts (fleet, kind, key, count) values ($1, 'installed', $2, -$4::bigint), ($1, 'installed', $3, $4), ($1, 'verified', $3, $4)
               on conflict (fleet, kind, key) do update set count = fleet_set_counts.count + excluded.count`,
        values: [s.fleet, INSTALLED_UNKNOWN, s.sha256, n],
      });
      await client.query({
        name: 'bare_pins',
        text: `insert into coverage_counts (fleet, host, pin, count) select $1, $2, p, $4 from unnest($3::text[]) as p
               on conflict (fleet, host, pin) do update set count = coverage_counts.count + excluded.count`,
        values: [s.fleet, s.host, s.pins, n],
      });
      await client.query('commit');
    }
    return done();
  } finally {
    await client.end();
  }
}
