import type { PinSetView } from '../../coverage/index';
import { CounterDeltas, type CountedDevice } from '../counted-sets';
import type { PinSetViews } from '../pinset-views';
import type { CoverageRepo, SetCount } from '../repositories';
import type { PinSetRow } from '../rows';
import { PgPinSets } from './pg-pinsets';
import { rows, run, type Queryable } from './pg-pool';

interface CountedRow {
  id: string;
  fleet: string;
  decommissioned: boolean;
  firmware: string | null;
  installed_seq: number;
  verified_seq: number;
  installed_sha256: string | null;
  verified_sha256: string | null;
  counted_installed: string | null;
  counted_verified: string | null;
}

/** What a transaction's coverage work needs besides its connection. */
export interface CoverageContext {
  views: PinSetViews;
  /** Fleets whose counters changed (announced after the commit). */
  changed: (fleet: string) => void;
  /** Runs `fn` in a transaction (reconcile outside one opens its own: the row locks must last until the commit). */
  transaction: <T>(fn: (coverage: PgCoverage) => Promise<T>) => Promise<T> | null;
}

/**
 * Coverage counters (SPEC §8) on PostgreSQL, with the rules of ../counted-sets.ts, set-based: a batch costs a few
 * statements whatever its size. The device rows are locked in id order (SELECT … FOR UPDATE, so two gateways
 * reconciling the same device serialise instead of double-counting), the differences are summed in memory, then
 * written once per counter row and once per device.
 */
export class PgCoverage implements CoverageRepo {
  /** Pin sets read through this repository's own connection (inside a transaction the pool may be exhausted). */
  private readonly load: (sha256: string) => Promise<PinSetRow | undefined>;

  constructor(
    private readonly db: Queryable,
    private readonly ctx: CoverageContext,
  ) {
    const pinsets = new PgPinSets(db);
    this.load = (sha) => pinsets.getBySha256(sha);
  }

  async reconcile(deviceId: string): Promise<void> {
    await this.reconcileMany([deviceId]);
  }

  /** Brings the counters in line with these device rows. Must run inside a transaction (the ingest's, or its own). */
  async reconcileMany(deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const outside = this.ctx.transaction((c) => c.reconcileMany(deviceIds));
    if (outside !== null) {
      await outside;
      return;
    }
    const locked = await this.lock(deviceIds);
    const deltas = new CounterDeltas();
    const viewOf = await this.viewsFor(locked.values());
    const moved: CountedDevice[] = [];
    for (const d of locked.values()) {
      const next = deltas.move(d, viewOf);
      if (next === null) continue;
      d.countedInstalled = next.installed;
      d.countedVerified = next.verified;
      moved.push(d);
    }
    if (moved.length > 0) {
      await run(
        this.db,
        `update devices d set counted_installed = t.i, counted_verified = t.v
         from unnest($1::text[], $2::text[], $3::text[]) as t(id, i, v) where d.id = t.id`,
        [moved.map((u) => u.id), moved.map((u) => u.countedInstalled), moved.map((u) => u.countedVerified)],
        'coverage_counted',
      );
    }
    await this.write(deltas);
  }

  /** Locks the device rows (SELECT … FOR UPDATE, in id order) and returns what the counters need of them. */
  async lock(deviceIds: Iterable<string>): Promise<Map<string, CountedDevice>> {
    const ids = [...new Set(deviceIds)].sort();
    const list = await rows<CountedRow>(
      this.db,
      `select id, fleet, decommissioned, firmware, installed_seq, installed_sha256, verified_seq, verified_sha256, counted_installed, counted_verified
       from devices where id = any($1::text[]) order by id for update`,
      [ids],
      'coverage_lock',
    );
    return new Map(
      list.map((r) => [
        r.id,
        {
          id: r.id,
          fleet: r.fleet,
          decommissioned: r.decommissioned,
          firmware: r.firmware,
          installedSeq: r.installed_seq,
          installedSha256: r.installed_sha256,
          verifiedSeq: r.verified_seq,
          verifiedSha256: r.verified_sha256,
          countedInstalled: r.counted_installed,
          countedVerified: r.counted_verified,
        },
      ]),
    );
  }

  /** The coverage views of every set these rows count or may count, read (once, then cached) before the sync pass. */
  async viewsFor(devices: Iterable<CountedDevice>): Promise<(sha256: string) => PinSetView | null> {
    const shas = new Set<string>();
    for (const d of devices) for (const s of [d.countedVerified, d.verifiedSha256]) if (s !== null) shas.add(s);
    const views = new Map<string, PinSetView | null>();
    for (const sha of shas) views.set(sha, (await this.ctx.views.bySha256(sha, this.load))?.view ?? null);
    return (sha) => views.get(sha) ?? null;
  }

  /**
   * One multi-row `INSERT … ON CONFLICT DO UPDATE SET count = t.count + excluded.count` per counter table, keys
   * sorted (concurrent batches take the counter rows' locks in the same order).
   */
  async write(deltas: CounterDeltas): Promise<void> {
    const setRows = deltas.setRows();
    if (setRows.length > 0) {
      await run(
        this.db,
        `insert into fleet_set_counts (fleet, kind, key, count)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
         on conflict (fleet, kind, key) do update set count = fleet_set_counts.count + excluded.count`,
        [setRows.map((s) => s.fleet), setRows.map((s) => s.kind), setRows.map((s) => s.key), setRows.map((s) => s.delta)],
        'coverage_sets',
      );
    }
    const pinRows = deltas.pinRows();
    if (pinRows.length > 0) {
      await run(
        this.db,
        `insert into coverage_counts (fleet, host, pin, count)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
         on conflict (fleet, host, pin) do update set count = coverage_counts.count + excluded.count`,
        [pinRows.map((p) => p.fleet), pinRows.map((p) => p.host), pinRows.map((p) => p.pin), pinRows.map((p) => p.delta)],
        'coverage_pins',
      );
    }
    this.announce(deltas);
  }

  /** Tells the fleets whose counters these differences moved (the ingest writes them in its own statement). */
  announce(deltas: CounterDeltas): void {
    for (const f of deltas.fleets) this.ctx.changed(f);
  }

  async reconcilePending(): Promise<number> {
    const ids = (await rows<{ id: string }>(this.db, 'select id from devices where counted_installed is null and not decommissioned order by id')).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 1000) await this.reconcileMany(ids.slice(i, i + 1000));
    return ids.length;
  }

  async installedSets(fleet: string): Promise<SetCount[]> {
    return this.setCounts(fleet, 'installed');
  }

  async verifiedSets(fleet: string): Promise<SetCount[]> {
    return this.setCounts(fleet, 'verified');
  }

  async fleetSize(fleet: string): Promise<number> {
    return (await this.installedSets(fleet)).reduce((n, r) => n + r.count, 0);
  }

  async pinCounts(fleet: string): Promise<{ host: string; pin: string; count: number }[]> {
    return rows(this.db, 'select host, pin, count from coverage_counts where fleet = $1 order by host, pin', [fleet], 'coverage_pin_counts');
  }

  private setCounts(fleet: string, kind: string): Promise<SetCount[]> {
    return rows<SetCount>(this.db, 'select key, count from fleet_set_counts where fleet = $1 and kind = $2 and count > 0', [fleet, kind], 'coverage_set_counts');
  }
}
