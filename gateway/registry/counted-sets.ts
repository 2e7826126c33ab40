/**
 * The rules of the coverage counters (SPEC §8) shared by both storage implementations, without SQL: what a
 * device row should be counted as, how an ack raises the installed / verified set, and the counter differences
 * summed over a batch (so each counter row is written once per batch, whatever the number of acks).
 */
import { coverageDelta, type PinSetView } from '../coverage/index';
import { INSTALLED_NONE, INSTALLED_UNKNOWN } from './installed-keys';

/** The columns of a device row the counters depend on. */
export interface CountedDevice {
  id: string;
  fleet: string;
  decommissioned: boolean;
  firmware: string | null;
  installedSeq: number;
  installedSha256: string | null;
  verifiedSeq: number;
  verifiedSha256: string | null;
  countedInstalled: string | null;
  countedVerified: string | null;
}

/**
 * installed key = installed envelope SHA-256, else 'none' (said hello, nothing installed) or 'unknown' (never
 * said hello); verified = the verified SHA-256 while it is still the installed one (SPEC §8 counts the verified
 * *installed* set); decommissioned devices count nowhere.
 */
export function countedFor(d: CountedDevice): { installed: string | null; verified: string | null } {
  if (d.decommissioned) return { installed: null, verified: null };
  const installed = d.installedSha256 ?? (d.firmware === null ? INSTALLED_UNKNOWN : INSTALLED_NONE);
  const verified = d.verifiedSha256 !== null && d.verifiedSha256 === d.installedSha256 ? d.verifiedSha256 : null;
  return { installed, verified };
}

/** A new "applied"/"verified" ack of a known set raises the device's sets, never lowers them (seq ≤ new seq). */
export function raiseSets(d: CountedDevice, ack: { seq: number; sha256: string; status: string }): void {
  if ((ack.status === 'applied' || ack.status === 'verified') && d.installedSeq <= ack.seq) {
    d.installedSeq = ack.seq;
    d.installedSha256 = ack.sha256;
  }
  if (ack.status === 'verified' && d.verifiedSeq <= ack.seq) {
    d.verifiedSeq = ack.seq;
    d.verifiedSha256 = ack.sha256;
  }
}

/** Counter differences of a batch, per (fleet, kind, key) and per (fleet, host, pin), in sorted key order. */
export class CounterDeltas {
  private readonly sets = new Map<string, { fleet: string; kind: string; key: string; delta: number }>();
  private readonly pins = new Map<string, { fleet: string; host: string; pin: string; delta: number }>();
  readonly fleets = new Set<string>();

  /**
   * Moves one device from what it is counted as to what it should be; returns the new counted values, or null when
   * nothing changes. `viewOf` gives the coverage view of an issued set (null: a set the gateway never issued).
   */
  move(d: CountedDevice, viewOf: (sha256: string) => PinSetView | null): { installed: string | null; verified: string | null } | null {
    const next = countedFor(d);
    if (next.installed === d.countedInstalled && next.verified === d.countedVerified) return null;
    if (next.installed !== d.countedInstalled) {
      if (d.countedInstalled !== null) this.set(d.fleet, 'installed', d.countedInstalled, -1);
      if (next.installed !== null) this.set(d.fleet, 'installed', next.installed, 1);
    }
    if (next.verified !== d.countedVerified) {
      if (d.countedVerified !== null) this.set(d.fleet, 'verified', d.countedVerified, -1);
      if (next.verified !== null) this.set(d.fleet, 'verified', next.verified, 1);
      const before = d.countedVerified === null ? null : viewOf(d.countedVerified);
      const after = next.verified === null ? null : viewOf(next.verified);
      for (const x of coverageDelta(before, after)) this.pin(d.fleet, x.host, x.pin, x.delta);
    }
    this.fleets.add(d.fleet);
    return next;
  }

  private set(fleet: string, kind: string, key: string, delta: number): void {
    const k = `${fleet}\u0000${kind}\u0000${key}`;
    const e = this.sets.get(k);
    if (e) e.delta += delta;
    else this.sets.set(k, { fleet, kind, key, delta });
  }

  private pin(fleet: string, host: string, pin: string, delta: number): void {
    const k = `${fleet}\u0000${host}\u0000${pin}`;
    const e = this.pins.get(k);
    if (e) e.delta += delta;
    else this.pins.set(k, { fleet, host, pin, delta });
  }

  /** Non-zero set differences, sorted (concurrent writers take the counter rows' locks in the same order). */
  setRows(): { fleet: string; kind: string; key: string; delta: number }[] {
    return [...this.sets.entries()].filter(([, v]) => v.delta !== 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  }

  /** Pin differences, zero ones included: a pin whose last device left keeps its row at 0. Sorted. */
  pinRows(): { fleet: string; host: string; pin: string; delta: number }[] {
    return [...this.pins.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  }
}
