import type { RegistryDb } from './open';
import { coverageDelta, type PinSetView } from '../../coverage/index';
import { INSTALLED_NONE, INSTALLED_UNKNOWN } from '../installed-keys';
import type { SetCount } from '../repositories';

interface CountedRow {
  id: string;
  fleet: string;
  decommissioned: number;
  firmware: string | null;
  installed_sha256: string | null;
  verified_sha256: string | null;
  counted_installed: string | null;
  counted_verified: string | null;
}


/**
 * Coverage counters (SPEC §8), kept incrementally so that reading them never scans the fleet.
 *
 * Each device row records what the counters count for it (`counted_installed`, `counted_verified`);
 * `reconcile(deviceId)` derives what they should count from the row and applies the difference:
 * - installed key = installed envelope SHA-256, else 'none' (said hello, nothing installed) or 'unknown' (never
 *   said hello); decommissioned devices count nowhere;
 * - verified set = the verified SHA-256 **while it is still the installed one** (a device that applied a newer
 *   set and has not verified it yet is covered by nothing: SPEC §8 counts the verified *installed* set);
 * - per (host, pin): `coverageDelta(old verified view, new verified view)`.
 * Callers run it inside the transaction that changed the row (ack ingest, hello, enrolment), so counters and
 * rows can never disagree. Statements are prepared once (raw better-sqlite3: these run per ack).
 */
export class CoverageStore {
  private readonly getRow;
  private readonly setCounted;
  private readonly bumpSet;
  private readonly bumpPin;
  private readonly setCountsOf;
  private readonly pinRows;
  private readonly pending;
  private readonly changed = new Set<string>();
  /** Called (outside the transaction, on the next microtask) with fleets whose counters changed. */
  onChange: ((fleet: string) => void) | null = null;

  constructor(
    private readonly db: RegistryDb,
    /** The coverage view of an issued pin set by envelope SHA-256 (cached: pin sets are immutable). */
    private readonly viewOf: (sha256: string) => PinSetView | null,
  ) {
    const c = db.$client;
    this.getRow = c.prepare<[string], CountedRow>(
      `select id, fleet, decommissioned, firmware, installed_sha256, verified_sha256, counted_installed, counted_verified from devices where id = ?`,
    );
    this.setCounted = c.prepare<[string | null, string | null, string]>(`update devices set counted_installed = ?, counted_verified = ? where id = ?`);
    this.bumpSet = c.prepare<[string, string, string, number]>(
      `insert into fleet_set_counts (fleet, kind, key, count) values (?, ?, ?, ?)
       on conflict (fleet, kind, key) do update set count = count + excluded.count`,
    );
    this.bumpPin = c.prepare<[string, string, string, number]>(
      `insert into coverage_counts (fleet, host, pin, count) values (?, ?, ?, ?)
       on conflict (fleet, host, pin) do update set count = count + excluded.count`,
    );
    this.setCountsOf = c.prepare<[string, string], SetCount>(`select key, count from fleet_set_counts where fleet = ? and kind = ? and count > 0`);
    this.pinRows = c.prepare<[string], { host: string; pin: string; count: number }>(
      `select host, pin, count from coverage_counts where fleet = ? order by host, pin`,
    );
    this.pending = c.prepare<[], { id: string }>(`select id from devices where counted_installed is null and decommissioned = 0`);
  }

  /** Brings the counters in line with one device row. Call inside the transaction that changed the row. */
  reconcile(deviceId: string): void {
    const d = this.getRow.get(deviceId);
    if (d === undefined) return;
    const active = d.decommissioned === 0;
    const installed = !active ? null : (d.installed_sha256 ?? (d.firmware === null ? INSTALLED_UNKNOWN : INSTALLED_NONE));
    const verified = active && d.verified_sha256 !== null && d.verified_sha256 === d.installed_sha256 ? d.verified_sha256 : null;
    if (installed === d.counted_installed && verified === d.counted_verified) return;
    if (installed !== d.counted_installed) {
      if (d.counted_installed !== null) this.bumpSet.run(d.fleet, 'installed', d.counted_installed, -1);
      if (installed !== null) this.bumpSet.run(d.fleet, 'installed', installed, 1);
    }
    if (verified !== d.counted_verified) {
      if (d.counted_verified !== null) this.bumpSet.run(d.fleet, 'verified', d.counted_verified, -1);
      if (verified !== null) this.bumpSet.run(d.fleet, 'verified', verified, 1);
      const before = d.counted_verified === null ? null : this.viewOf(d.counted_verified);
      const after = verified === null ? null : this.viewOf(verified);
      for (const delta of coverageDelta(before, after)) this.bumpPin.run(d.fleet, delta.host, delta.pin, delta.delta);
    }
    this.setCounted.run(installed, verified, deviceId);
    this.noteChange(d.fleet);
  }

  /**
   * Devices never reconciled (a data dir from before the counters existed): counted at start-up, in batches of
   * 1000 per transaction. Returns how many.
   */
  reconcilePending(): number {
    const ids = this.pending.all().map((r) => r.id);
    const batch = this.db.$client.transaction((chunk: string[]) => chunk.forEach((id) => this.reconcile(id)));
    for (let i = 0; i < ids.length; i += 1000) batch(ids.slice(i, i + 1000));
    return ids.length;
  }

  /** Devices per installed-set key (sum = fleet size, offline included, decommissioned excluded). */
  installedSets(fleet: string): SetCount[] {
    return this.setCountsOf.all(fleet, 'installed');
  }

  /** Devices per verified (and still installed) set. */
  verifiedSets(fleet: string): SetCount[] {
    return this.setCountsOf.all(fleet, 'verified');
  }

  fleetSize(fleet: string): number {
    return this.installedSets(fleet).reduce((n, r) => n + r.count, 0);
  }

  /** Counter rows per exact host entry and pin (zero rows included: a pin that lost all its devices). */
  pinCounts(fleet: string): { host: string; pin: string; count: number }[] {
    return this.pinRows.all(fleet);
  }

  private noteChange(fleet: string): void {
    if (this.onChange === null) return;
    if (this.changed.size === 0) {
      queueMicrotask(() => {
        const fleets = [...this.changed];
        this.changed.clear();
        for (const f of fleets) this.onChange?.(f);
      });
    }
    this.changed.add(fleet);
  }
}
