import { sql } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { acks, devices, malformedCounts, pinsetAckCounts, reports } from './schema';
import type { IngestBatch } from '../repositories';
import type { CoverageStore } from './coverage-store';
import type { TelemetryStore } from './telemetry-store';

/**
 * The SQLite side of IngestRepo.writeBatch: one better-sqlite3 transaction of prepared statements per batch
 * (LIBRARY-NOTES: batched prepared statements are ~15× faster than autocommit). The unique indexes make QoS 1
 * redelivery idempotent; ack counters, installed/verified sets, coverage counters and telemetry buckets are
 * updated in the same transaction, so they count each committed row once.
 */
export class SqliteIngest {
  readonly writeBatch: (batch: IngestBatch) => { acks: boolean[]; reports: boolean[] };

  constructor(db: RegistryDb, counters: { coverage?: CoverageStore; telemetry?: TelemetryStore }) {
    const p = (name: string) => sql`${sql.placeholder(name)}`;
    const insertAck = db
      .insert(acks)
      .values({
        deviceId: sql.placeholder('deviceId'),
        sha256: sql.placeholder('sha256'),
        seq: sql.placeholder('seq'),
        status: sql.placeholder('status'),
        code: sql.placeholder('code'),
        pinsetId: sql.placeholder('pinsetId'),
        receivedAt: sql.placeholder('at'),
      })
      .onConflictDoNothing()
      .prepare();
    const countAck = db
      .insert(pinsetAckCounts)
      .values({ pinsetId: sql.placeholder('pinsetId'), status: sql.placeholder('status'), count: 1 })
      .onConflictDoUpdate({ target: [pinsetAckCounts.pinsetId, pinsetAckCounts.status], set: { count: sql`${pinsetAckCounts.count} + 1` } })
      .prepare();
    const installed = db
      .update(devices)
      .set({ installedSeq: p('seq'), installedSha256: p('sha256') })
      .where(sql`${devices.id} = ${sql.placeholder('deviceId')} and ${devices.installedSeq} <= ${sql.placeholder('seq')}`)
      .prepare();
    const verified = db
      .update(devices)
      .set({ verifiedSeq: p('seq'), verifiedSha256: p('sha256') })
      .where(sql`${devices.id} = ${sql.placeholder('deviceId')} and ${devices.verifiedSeq} <= ${sql.placeholder('seq')}`)
      .prepare();
    const insertReport = db
      .insert(reports)
      .values({
        deviceId: sql.placeholder('deviceId'),
        host: sql.placeholder('host'),
        port: sql.placeholder('port'),
        result: sql.placeholder('result'),
        servedPins: sql.placeholder('servedPins'),
        installedSeq: sql.placeholder('installedSeq'),
        deviceTime: sql.placeholder('deviceTime'),
        receivedAt: sql.placeholder('at'),
      })
      .onConflictDoNothing()
      .prepare();
    const countMalformed = db
      .insert(malformedCounts)
      .values({
        deviceId: sql.placeholder('deviceId'),
        kind: sql.placeholder('kind'),
        code: sql.placeholder('code'),
        count: sql.placeholder('count'),
        lastAt: sql.placeholder('lastAt'),
        lastDetail: sql.placeholder('lastDetail'),
      })
      .onConflictDoUpdate({
        target: [malformedCounts.deviceId, malformedCounts.kind, malformedCounts.code],
        set: {
          count: sql`${malformedCounts.count} + excluded.count`,
          lastAt: sql`excluded.last_at`,
          lastDetail: sql`excluded.last_detail`,
        },
      })
      .prepare();
    const touch = db
      .update(devices)
      .set({ lastSeen: p('at') })
      .where(sql`${devices.id} = ${sql.placeholder('deviceId')}`)
      .prepare();

    const tx = db.$client.transaction((batch: IngestBatch) => {
      const ackResults = batch.acks.map((row) => {
        const isNew = insertAck.run({ ...row }).changes === 1;
        if (isNew && row.pinsetId !== null) {
          countAck.run({ pinsetId: row.pinsetId, status: row.status });
          if (row.status === 'applied' || row.status === 'verified') installed.run({ ...row });
          if (row.status === 'verified') verified.run({ ...row });
          if (row.status !== 'rejected') counters.coverage?.reconcile(row.deviceId);
        }
        return isNew;
      });
      const reportResults = batch.reports.map((row) => {
        const isNew = insertReport.run({ ...row }).changes === 1;
        if (isNew) counters.telemetry?.count(row.deviceId, row.host, row.result, row.at);
        return isNew;
      });
      for (const m of batch.malformed) countMalformed.run({ ...m });
      for (const [deviceId, at] of batch.seen) touch.run({ deviceId, at });
      return { acks: ackResults, reports: reportResults };
    });
    this.writeBatch = (batch) => tx(batch);
  }
}
