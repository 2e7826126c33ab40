import type { DeviceRepo } from '../repositories';
import type { AckHistoryRow, DeviceFilter, DeviceRow, DirectoryDevice, HelloState, MalformedCountRow, NewDevice, Page, ReportHistoryRow } from '../rows';
import type { PgCoverage } from './pg-coverage';
import { rows, run, type Queryable } from './pg-pool';

interface RawDevice {
  id: string;
  fleet: string;
  device_class: string;
  labels: string;
  firmware: string | null;
  credential_hash: string;
  created_at: number;
  last_seen: number | null;
  online: boolean;
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
  decommissioned: boolean;
  counted_installed: string | null;
  counted_verified: string | null;
}

export function toDevice(r: RawDevice): DeviceRow {
  return {
    id: r.id,
    fleet: r.fleet,
    deviceClass: r.device_class,
    labels: JSON.parse(r.labels) as string[],
    firmware: r.firmware,
    credentialHash: r.credential_hash,
    createdAt: r.created_at,
    lastSeen: r.last_seen,
    online: r.online,
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
    decommissioned: r.decommissioned,
    countedInstalled: r.counted_installed,
    countedVerified: r.counted_verified,
  };
}

/** Devices on PostgreSQL (the same rows and answers as registry/sqlite/device-store.ts). */
export class PgDevices implements DeviceRepo {
  constructor(
    private readonly db: Queryable,
    /** Runs a bulk enrolment in a transaction with the coverage repository of the same connection (null: not here). */
    private readonly atomically: <T>(fn: (devices: PgDevices, coverage: PgCoverage) => Promise<T>) => Promise<T> | null,
  ) {}

  async get(id: string): Promise<DeviceRow | undefined> {
    const [r] = await rows<RawDevice>(this.db, 'select * from devices where id = $1', [id], 'devices_get');
    return r === undefined ? undefined : toDevice(r);
  }

  async getMany(ids: readonly string[]): Promise<DeviceRow[]> {
    if (ids.length === 0) return [];
    return (await rows<RawDevice>(this.db, 'select * from devices where id = any($1::text[])', [ids], 'devices_get_many')).map(toDevice);
  }

  async insert(d: NewDevice): Promise<boolean> {
    const n = await run(
      this.db,
      `insert into devices (id, fleet, device_class, labels, credential_hash, created_at) values ($1, $2, $3, $4, $5, $6) on conflict (id) do nothing`,
      [d.id, d.fleet, d.deviceClass, JSON.stringify(d.labels), d.credentialHash, d.createdAt],
    );
    return n === 1;
  }

  /** One multi-row insert (unnest) per 5,000 devices, then their coverage counters, in one transaction. */
  async insertMany(list: readonly NewDevice[]): Promise<number> {
    const run = this.atomically((devices, coverage) => devices.insertChunks(list, (ids) => coverage.reconcileMany(ids)));
    if (run === null) throw new Error('insertMany needs a transaction');
    return run;
  }

  private async insertChunks(list: readonly NewDevice[], reconcile: (ids: string[]) => Promise<void>): Promise<number> {
    let n = 0;
    for (let i = 0; i < list.length; i += 5000) {
      const chunk = list.slice(i, i + 5000);
      const inserted = await rows<{ id: string }>(
        this.db,
        `insert into devices (id, fleet, device_class, labels, credential_hash, created_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
         on conflict (id) do nothing returning id`,
        [chunk.map((d) => d.id), chunk.map((d) => d.fleet), chunk.map((d) => d.deviceClass), chunk.map((d) => JSON.stringify(d.labels)), chunk.map((d) => d.credentialHash), chunk.map((d) => d.createdAt)],
      );
      n += inserted.length;
      await reconcile(inserted.map((r) => r.id));
    }
    return n;
  }

  async setOnline(id: string, online: boolean, at: number): Promise<void> {
    await run(this.db, 'update devices set online = $2, last_seen = $3 where id = $1', [id, online, at], 'devices_online');
  }

  async replaceCredentialHash(id: string, expected: string, next: string): Promise<boolean> {
    return (await run(this.db, 'update devices set credential_hash = $3 where id = $1 and credential_hash = $2', [id, expected, next])) === 1;
  }

  async setAllOffline(): Promise<void> {
    await run(this.db, 'update devices set online = false where online');
  }

  async applyHello(id: string, h: HelloState): Promise<void> {
    await run(
      this.db,
      'update devices set firmware = $2, installed_seq = $3, installed_sha256 = $4, keyset_version = $5, last_seen = $6 where id = $1',
      [id, h.firmware, h.installedSeq, h.installedSha256, h.keysetVersion, h.at],
      'devices_hello',
    );
  }

  async flag(id: string, reason: string, at: number): Promise<void> {
    await run(this.db, 'update devices set flagged_reason = $2, flagged_at = $3, flag_count = flag_count + 1 where id = $1', [id, reason, at]);
  }

  async assign(id: string, pinsetId: number, at: number): Promise<void> {
    await run(this.db, 'update devices set assigned_pinset_id = $2, last_delivered_at = $3 where id = $1', [id, pinsetId, at], 'devices_assign');
  }

  /** One statement (atomic by itself); rows locked in id order, as every batch of the registry takes them. */
  async assignMany(ids: readonly string[], pinsetId: number, at: number): Promise<void> {
    if (ids.length === 0) return;
    await run(
      this.db,
      `update devices d set assigned_pinset_id = $2, last_delivered_at = $3
       from (select id from devices where id = any($1::text[]) order by id for update) t where d.id = t.id`,
      [[...ids].sort(), pinsetId, at],
      'devices_assign_many',
    );
  }

  async setDecommissioned(id: string): Promise<void> {
    await run(this.db, 'update devices set decommissioned = true, online = false where id = $1', [id]);
  }

  async setRecommissioned(id: string): Promise<void> {
    await run(this.db, 'update devices set decommissioned = false where id = $1', [id]);
  }

  async list(filter: DeviceFilter, limit: number, cursor?: string): Promise<Page<DeviceRow>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (filter.fleet !== undefined) where.push(`fleet = ${arg(filter.fleet)}`);
    if (filter.deviceClass !== undefined) where.push(`device_class = ${arg(filter.deviceClass)}`);
    if (filter.online !== undefined) where.push(`online = ${arg(filter.online)}`);
    if (filter.seq !== undefined) where.push(`installed_seq = ${arg(filter.seq)}`);
    if (filter.state === 'flagged') where.push('flagged_reason is not null');
    if (filter.state === 'decommissioned') where.push('decommissioned');
    if (filter.state === 'active') where.push('not decommissioned');
    if (filter.q !== undefined) {
      // case-insensitive like SQLite's LIKE; the wildcards in the search text are literal
      const p = arg(`%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`);
      // the literal text in the id or in one label, never in the labels' JSON text (issue 17)
      where.push(`(lower(id) like ${p} escape '\\' or exists (select 1 from json_array_elements_text(labels::json) as l(v) where lower(l.v) like ${p} escape '\\'))`);
    }
    if (cursor !== undefined) where.push(`id > ${arg(cursor)}`);
    const list = await rows<RawDevice>(
      this.db,
      `select * from devices ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by id limit ${arg(limit + 1)}`,
      args,
    );
    const items = list.slice(0, limit).map(toDevice);
    const last = items[items.length - 1];
    return { items, nextCursor: list.length > limit && last ? last.id : null };
  }

  async idsOfFleet(fleet: string): Promise<string[]> {
    return (await rows<{ id: string }>(this.db, 'select id from devices where fleet = $1 and not decommissioned order by id', [fleet])).map((r) => r.id);
  }

  async onlineIds(): Promise<string[]> {
    return (await rows<{ id: string }>(this.db, 'select id from devices where online order by id')).map((r) => r.id);
  }

  async fleets(): Promise<{ fleet: string; devices: number; online: number }[]> {
    return rows(
      this.db,
      `select fleet, count(*) as devices, sum(case when online then 1 else 0 end) as online
       from devices where not decommissioned group by fleet order by fleet`,
    );
  }

  async history(id: string, limit: number): Promise<{ acks: AckHistoryRow[]; reports: ReportHistoryRow[] }> {
    const acks = await rows<AckHistoryRow>(
      this.db,
      `select id, device_id as "deviceId", sha256, seq, status, code, pinset_id as "pinsetId", received_at as "receivedAt"
       from acks where device_id = $1 order by id desc limit $2`,
      [id, limit],
    );
    const reports = await rows<Omit<ReportHistoryRow, 'servedPins'> & { servedPins: string }>(
      this.db,
      `select id, device_id as "deviceId", host, port, result, served_pins as "servedPins", installed_seq as "installedSeq",
         device_time as "deviceTime", received_at as "receivedAt"
       from reports where device_id = $1 order by id desc limit $2`,
      [id, limit],
    );
    return { acks, reports: reports.map((r) => ({ ...r, servedPins: JSON.parse(r.servedPins) as string[] })) };
  }

  async malformedCounts(id: string): Promise<MalformedCountRow[]> {
    return rows(
      this.db,
      `select kind, code, count, last_at as "lastAt", last_detail as "lastDetail" from malformed_counts where device_id = $1 order by kind, code`,
      [id],
    );
  }

  async directory(fleet: string): Promise<DirectoryDevice[]> {
    const list = await rows<{ id: string; device_class: string; labels: string; online: boolean }>(
      this.db,
      'select id, device_class, labels, online from devices where fleet = $1 and not decommissioned',
      [fleet],
    );
    return list.map((r) => ({ deviceId: r.id, deviceClass: r.device_class, labels: JSON.parse(r.labels) as string[], online: r.online }));
  }

  async withInstalledKeys(fleet: string, installedKeys: readonly string[], afterId: string, limit: number) {
    // one ordered range of the index (fleet, counted_installed, id) per key, merged here. The key is matched as a
    // row comparison plus an upper bound, not `=`: with `=` the planner may walk (fleet, id) in id order and filter,
    // skipping every device of the other sets first (~100 ms at a million devices once ANALYZE says the key is
    // common); `order by counted_installed, id` can then only come from this index, which seeks straight to the page.
    const perKey = await Promise.all(
      [...new Set(installedKeys)].map((key) =>
        rows<{ id: string; online: boolean; installedSeq: number; countedInstalled: string }>(
          this.db,
          `select id, online, installed_seq as "installedSeq", counted_installed as "countedInstalled" from devices
           where fleet = $1 and (counted_installed, id) > ($2, $3) and counted_installed <= $2 order by counted_installed, id limit $4`,
          // unnamed on purpose: planned with the actual key each time
          [fleet, key, afterId, limit],
        ),
      ),
    );
    return perKey
      .flat()
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async countOfflineWithInstalledKeys(fleet: string, installedKeys: readonly string[]): Promise<number> {
    if (installedKeys.length === 0) return 0;
    const [r] = await rows<{ n: number }>(
      this.db,
      // offline_installed_counts is kept by a trigger on devices (migration 0009): one row per set, not the fleet
      'select coalesce(sum(n), 0)::int as n from offline_installed_counts where fleet = $1 and installed = any($2::text[])',
      [fleet, [...installedKeys]],
    );
    return r?.n ?? 0;
  }
}
