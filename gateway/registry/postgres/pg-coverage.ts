import { coverageDelta } from '../../coverage/index';
import { INSTALLED_NONE, INSTALLED_UNKNOWN } from '../installed-keys';
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
 * Coverage counters (SPEC §8) on PostgreSQL: the rules of registry/sqlite/coverage-store.ts, set-based, so a batch
 * of acks costs four statements whatever its size: the device rows are locked in id order (SELECT … FOR UPDATE,
 * so two gateways reconciling the same device serialise instead of double-counting), the differences summed in
 * memory, then one multi-row `INSERT … ON CONFLICT DO UPDATE SET count = t.count + excluded.count` per counter
 * table (keys sorted: concurrent batches take the row locks in the same order) and one UPDATE of the devices.
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
    const ids = [...new Set(deviceIds)].sort();
    const list = await rows<CountedRow>(
      this.db,
      `select id, fleet, decommissioned, firmware, installed_sha256, verified_sha256, counted_installed, counted_verified
       from devices where id = any($1::text[]) order by id for update`,
      [ids],
      'coverage_lock',
    );
    const sets = new Map<string, { fleet: string; kind: string; key: string; delta: number }>();
    const pins = new Map<string, { fleet: string; host: string; pin: string; delta: number }>();
    const updates: { id: string; installed: string | null; verified: string | null }[] = [];
    const bumpSet = (fleet: string, kind: string, key: string, delta: number) => {
      const k = `${fleet}\u0000${kind}\u0000${key}`;
      const e = sets.get(k);
      if (e) e.delta += delta;
      else sets.set(k, { fleet, kind, key, delta });
    };
    for (const d of list) {
      const active = !d.decommissioned;
      const installed = !active ? null : (d.installed_sha256 ?? (d.firmware === null ? INSTALLED_UNKNOWN : INSTALLED_NONE));
      const verified = active && d.verified_sha256 !== null && d.verified_sha256 === d.installed_sha256 ? d.verified_sha256 : null;
      if (installed === d.counted_installed && verified === d.counted_verified) continue;
      if (installed !== d.counted_installed) {
        if (d.counted_installed !== null) bumpSet(d.fleet, 'installed', d.counted_installed, -1);
        if (installed !== null) bumpSet(d.fleet, 'installed', installed, 1);
      }
      if (verified !== d.counted_verified) {
        if (d.counted_verified !== null) bumpSet(d.fleet, 'verified', d.counted_verified, -1);
        if (verified !== null) bumpSet(d.fleet, 'verified', verified, 1);
        const before = d.counted_verified === null ? null : ((await this.ctx.views.bySha256(d.counted_verified, this.load))?.view ?? null);
        const after = verified === null ? null : ((await this.ctx.views.bySha256(verified, this.load))?.view ?? null);
        for (const delta of coverageDelta(before, after)) {
          const k = `${d.fleet}\u0000${delta.host}\u0000${delta.pin}`;
          const e = pins.get(k);
          if (e) e.delta += delta.delta;
          else pins.set(k, { fleet: d.fleet, host: delta.host, pin: delta.pin, delta: delta.delta });
        }
      }
      updates.push({ id: d.id, installed, verified });
      this.ctx.changed(d.fleet);
    }
    const setRows = [...sets.entries()].filter(([, v]) => v.delta !== 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
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
    // zero deltas are written too: a pin whose last device left keeps its row at 0 (as on SQLite)
    const pinRows = [...pins.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
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
    if (updates.length > 0) {
      await run(
        this.db,
        `update devices d set counted_installed = t.i, counted_verified = t.v
         from unnest($1::text[], $2::text[], $3::text[]) as t(id, i, v) where d.id = t.id`,
        [updates.map((u) => u.id), updates.map((u) => u.installed), updates.map((u) => u.verified)],
        'coverage_counted',
      );
    }
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
