import { and, asc, eq, gt, or, sql, type SQL } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { acks, devices, malformedCounts, reports } from './schema';
import type { AckHistoryRow, DeviceFilter, DeviceRow, DirectoryDevice, HelloState, MalformedCountRow, NewDevice, ReportHistoryRow } from '../rows';

/** Devices of the registry; prepared statements on the paths every connection takes. */
export class DeviceStore {
  private readonly byId;
  private readonly setOnlineStmt;
  private readonly helloStmt;
  private readonly flagStmt;
  private readonly assignStmt;
  private readonly directoryStmt;
  private readonly insertStmt;
  private readonly manyStmt;

  constructor(private readonly db: RegistryDb) {
    this.insertStmt = db.$client.prepare(
      `insert into devices (id, fleet, device_class, labels, credential_hash, created_at) values (@id, @fleet, @deviceClass, @labels, @credentialHash, @createdAt)
       on conflict (id) do nothing`,
    );
    this.directoryStmt = db.$client.prepare<[string], { id: string; device_class: string; labels: string; online: number }>(
      `select id, device_class, labels, online from devices where fleet = ? and decommissioned = 0`,
    );
    // a delivery chunk's devices in one statement (ids as a JSON array), mapped as drizzle maps `byId`'s row
    // (json_each driving the primary-key lookups: half the time of `id in (select value from json_each(?))`)
    this.manyStmt = db.$client.prepare<[string], RawDeviceRow>(
      `select d.* from (select distinct value from json_each(?)) j cross join devices d on d.id = j.value`,
    );
    const p = (name: string) => sql`${sql.placeholder(name)}`;
    this.byId = db.select().from(devices).where(eq(devices.id, sql.placeholder('id'))).prepare();
    this.setOnlineStmt = db
      .update(devices)
      .set({ online: p('online'), lastSeen: p('at') })
      .where(eq(devices.id, p('id')))
      .prepare();
    this.helloStmt = db
      .update(devices)
      .set({
        firmware: p('firmware'),
        installedSeq: p('installedSeq'),
        installedSha256: p('installedSha256'),
        keysetVersion: p('keysetVersion'),
        lastSeen: p('at'),
      })
      .where(eq(devices.id, p('id')))
      .prepare();
    this.flagStmt = db
      .update(devices)
      .set({
        flaggedReason: p('reason'),
        flaggedAt: p('at'),
        flagCount: sql`${devices.flagCount} + 1`,
      })
      .where(eq(devices.id, p('id')))
      .prepare();
    this.assignStmt = db
      .update(devices)
      .set({ assignedPinSetId: p('pinsetId'), lastDeliveredAt: p('at') })
      .where(eq(devices.id, p('id')))
      .prepare();
  }

  get(id: string): DeviceRow | undefined {
    return this.byId.get({ id });
  }

  getMany(ids: readonly string[]): DeviceRow[] {
    if (ids.length === 0) return [];
    return this.manyStmt.all(JSON.stringify(ids)).map(toDeviceRow);
  }

  /** Inserts a device; false when the id is taken. */
  insert(d: NewDevice): boolean {
    const r = this.db.insert(devices).values(d).onConflictDoNothing().run();
    return r.changes === 1;
  }

  /** Prepared insert + the coverage reconcile of each new device, in one transaction (SqliteRegistry wires `reconcile`). */
  insertMany(list: readonly NewDevice[]): number {
    return this.db.$client.transaction(() => {
      let n = 0;
      for (const d of list) {
        const r = this.insertStmt.run({ ...d, labels: JSON.stringify(d.labels) });
        if (r.changes === 1) {
          n++;
          this.reconcile?.(d.id);
        }
      }
      return n;
    })();
  }

  /** Set by the registry: the coverage reconcile of a changed device row (same connection, same transaction). */
  reconcile: ((id: string) => void) | null = null;

  setOnline(id: string, online: boolean, at: number): void {
    this.setOnlineStmt.run({ id, online: online ? 1 : 0, at });
  }

  replaceCredentialHash(id: string, expected: string, next: string): boolean {
    const r = this.db
      .update(devices)
      .set({ credentialHash: next })
      .where(and(eq(devices.id, id), eq(devices.credentialHash, expected)))
      .run();
    return r.changes === 1;
  }

  /** Marks every device offline (start-up: no connection survives a restart). */
  setAllOffline(): void {
    this.db.update(devices).set({ online: false }).where(eq(devices.online, true)).run();
  }

  applyHello(id: string, h: HelloState): void {
    this.helloStmt.run({ id, ...h });
  }

  flag(id: string, reason: string, at: number): void {
    this.flagStmt.run({ id, reason, at });
  }

  assign(id: string, pinsetId: number, at: number): void {
    this.assignStmt.run({ id, pinsetId, at });
  }

  /** One transaction (a savepoint inside an open one) for the whole list. */
  assignMany(ids: readonly string[], pinsetId: number, at: number): void {
    this.db.$client.transaction(() => {
      for (const id of ids) this.assignStmt.run({ id, pinsetId, at });
    })();
  }

  /** Callers keep the coverage counters in step: `coverage.withReconcile(id, () => devices.setDecommissioned(id))`. */
  setDecommissioned(id: string): void {
    this.db.update(devices).set({ decommissioned: true, online: false }).where(eq(devices.id, id)).run();
  }

  setRecommissioned(id: string): void {
    this.db.update(devices).set({ decommissioned: false }).where(eq(devices.id, id)).run();
  }

  /** Ids ordered ascending; `cursor` is the last id of the previous page. */
  list(filter: DeviceFilter, limit: number, cursor?: string): { items: DeviceRow[]; nextCursor: string | null } {
    const where: SQL[] = [];
    if (filter.fleet !== undefined) where.push(eq(devices.fleet, filter.fleet));
    if (filter.deviceClass !== undefined) where.push(eq(devices.deviceClass, filter.deviceClass));
    if (filter.online !== undefined) where.push(eq(devices.online, filter.online));
    if (filter.seq !== undefined) where.push(eq(devices.installedSeq, filter.seq));
    if (filter.state === 'flagged') where.push(sql`${devices.flaggedReason} is not null`);
    if (filter.state === 'decommissioned') where.push(eq(devices.decommissioned, true));
    if (filter.state === 'active') where.push(eq(devices.decommissioned, false));
    if (filter.q !== undefined) {
      const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      // literal text in the id or in one label (case-insensitive for ASCII, as PostgreSQL's lower()): labels are matched element by element, never as their JSON text
      // (whose brackets, quotes and backslashes would otherwise match `[`, `"`, `\`; issue 17)
      where.push(
        or(
          sql`${devices.id} like ${pattern} escape '\\'`,
          sql`exists (select 1 from json_each(${devices.labels}) as l where l.value like ${pattern} escape '\\')`,
        )!,
      );
    }
    if (cursor !== undefined) where.push(gt(devices.id, cursor));
    const rows = this.db
      .select()
      .from(devices)
      .where(and(...where))
      .orderBy(asc(devices.id))
      .limit(limit + 1)
      .all();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  /** Devices of one fleet (not decommissioned), for fleet-wide delivery. */
  idsOfFleet(fleet: string): string[] {
    return this.db
      .select({ id: devices.id })
      .from(devices)
      .where(and(eq(devices.fleet, fleet), eq(devices.decommissioned, false)))
      .orderBy(asc(devices.id))
      .all()
      .map((r) => r.id);
  }

  onlineIds(): string[] {
    return this.db.select({ id: devices.id }).from(devices).where(eq(devices.online, true)).all().map((r) => r.id);
  }

  fleets(): { fleet: string; devices: number; online: number }[] {
    return this.db
      .select({
        fleet: devices.fleet,
        devices: sql<number>`count(*)`,
        online: sql<number>`sum(case when ${devices.online} then 1 else 0 end)`,
      })
      .from(devices)
      .where(eq(devices.decommissioned, false))
      .groupBy(devices.fleet)
      .orderBy(asc(devices.fleet))
      .all();
  }

  history(id: string, limit: number): { acks: AckHistoryRow[]; reports: ReportHistoryRow[] } {
    const ackRows = this.db.select().from(acks).where(eq(acks.deviceId, id)).orderBy(sql`${acks.id} desc`).limit(limit).all();
    const reportRows = this.db
      .select()
      .from(reports)
      .where(eq(reports.deviceId, id))
      .orderBy(sql`${reports.id} desc`)
      .limit(limit)
      .all();
    return { acks: ackRows, reports: reportRows };
  }

  malformedCounts(id: string): MalformedCountRow[] {
    return this.db
      .select({
        kind: malformedCounts.kind,
        code: malformedCounts.code,
        count: malformedCounts.count,
        lastAt: malformedCounts.lastAt,
        lastDetail: malformedCounts.lastDetail,
      })
      .from(malformedCounts)
      .where(eq(malformedCounts.deviceId, id))
      .all();
  }

  directory(fleet: string): DirectoryDevice[] {
    return this.directoryStmt
      .all(fleet)
      .map((r) => ({ deviceId: r.id, deviceClass: r.device_class, labels: JSON.parse(r.labels) as string[], online: r.online === 1 }));
  }

  withInstalledKeys(fleet: string, installedKeys: readonly string[], afterId: string, limit: number) {
    if (installedKeys.length === 0) return [];
    const rows = this.db.$client
      .prepare<(string | number)[], { id: string; online: number; installed_seq: number; counted_installed: string }>(
        `select id, online, installed_seq, counted_installed from devices
         where fleet = ? and counted_installed in (${installedKeys.map(() => '?').join(', ')}) and id > ? order by id limit ?`,
      )
      .all(fleet, ...installedKeys, afterId, limit);
    return rows.map((d) => ({ id: d.id, online: d.online === 1, installedSeq: d.installed_seq, countedInstalled: d.counted_installed }));
  }

  countOfflineWithInstalledKeys(fleet: string, installedKeys: readonly string[]): number {
    if (installedKeys.length === 0) return 0;
    return (
      this.db.$client
        .prepare<string[], { n: number }>(
          // offline_installed_counts is kept by triggers on devices (migration 0010): one row per set, not the fleet
          `select coalesce(sum(n), 0) as n from offline_installed_counts where fleet = ? and installed in (${installedKeys.map(() => '?').join(', ')})`,
        )
        .get(fleet, ...installedKeys)?.n ?? 0
    );
  }
}

interface RawDeviceRow {
  id: string;
  fleet: string;
  device_class: string;
  labels: string;
  firmware: string | null;
  credential_hash: string;
  created_at: number;
  last_seen: number | null;
  online: number;
  installed_seq: number;
  installed_sha256: string | null;
  verified_seq: number;
  verified_sha256: string | null;
  keyset_version: number;
  assigned_pinset_id: number | null;
  last_delivered_at: number | null;
  flagged_reason: string | null;
  flagged_at: number | null;
  flag_count: number;
  decommissioned: number;
  counted_installed: string | null;
  counted_verified: string | null;
}

/** A raw row as the schema's drizzle mapping gives it (the contract suite compares getMany with get). */
function toDeviceRow(r: RawDeviceRow): DeviceRow {
  return {
    id: r.id,
    fleet: r.fleet,
    deviceClass: r.device_class,
    labels: JSON.parse(r.labels) as string[],
    firmware: r.firmware,
    credentialHash: r.credential_hash,
    createdAt: r.created_at,
    lastSeen: r.last_seen,
    online: r.online === 1,
    installedSeq: r.installed_seq,
    installedSha256: r.installed_sha256,
    verifiedSeq: r.verified_seq,
    verifiedSha256: r.verified_sha256,
    keysetVersion: r.keyset_version,
    assignedPinSetId: r.assigned_pinset_id,
    lastDeliveredAt: r.last_delivered_at,
    flaggedReason: r.flagged_reason,
    flaggedAt: r.flagged_at,
    flagCount: r.flag_count,
    decommissioned: r.decommissioned === 1,
    countedInstalled: r.counted_installed,
    countedVerified: r.counted_verified,
  };
}
