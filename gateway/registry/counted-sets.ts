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

interface Transition {
  fleet: string;
  fromInstalled: string | null;
  toInstalled: string | null;
  fromVerified: string | null;
  toVerified: string | null;
  devices: number;
}

/**
 * Counter differences of a batch, per (fleet, kind, key) and per (fleet, host, pin), in sorted key order.
 *
 * A batch of acks moves many devices the same way (a wave: 'unknown' or the old set → the new set), so `move`
 * only counts devices per distinct transition (fleet, counted before → after); the set and pin differences, and
 * the pin-by-pin comparison of two views (`coverageDelta`), are worked out once per transition when the rows are
 * read (the profile of `npm run bench -- storage` had the per-device comparison at a fifth of the batch's time).
 */
export class CounterDeltas {
  private readonly moves = new Map<string, Transition>();
  private viewOf: (sha256: string) => PinSetView | null = () => null;
  private totals: {
    sets: { fleet: string; kind: string; key: string; delta: number }[];
    pins: { fleet: string; host: string; pin: string; delta: number }[];
  } | null = null;
  readonly fleets = new Set<string>();

  /**
   * Moves one device from what it is counted as to what it should be; returns the new counted values, or null when
   * nothing changes. `viewOf` gives the coverage view of an issued set (null: a set the gateway never issued); it
   * is asked when the rows are read, so it must answer for every set moved in this batch.
   */
  move(d: CountedDevice, viewOf: (sha256: string) => PinSetView | null): { installed: string | null; verified: string | null } | null {
    const next = countedFor(d);
    if (next.installed === d.countedInstalled && next.verified === d.countedVerified) return null;
    this.viewOf = viewOf;
    this.totals = null;
    const k = `${d.fleet}\u0000${d.countedInstalled}\u0000${next.installed}\u0000${d.countedVerified}\u0000${next.verified}`;
    const t = this.moves.get(k);
    if (t) t.devices++;
    else {
      this.moves.set(k, { fleet: d.fleet, fromInstalled: d.countedInstalled, toInstalled: next.installed, fromVerified: d.countedVerified, toVerified: next.verified, devices: 1 });
      this.fleets.add(d.fleet);
    }
    return next;
  }

  /** Non-zero set differences, sorted (concurrent writers take the counter rows' locks in the same order). */
  setRows(): { fleet: string; kind: string; key: string; delta: number }[] {
    return this.sum().sets;
  }

  /** Pin differences, zero ones included: a pin whose last device left keeps its row at 0. Sorted. */
  pinRows(): { fleet: string; host: string; pin: string; delta: number }[] {
    return this.sum().pins;
  }

  private sum(): NonNullable<CounterDeltas['totals']> {
    if (this.totals !== null) return this.totals;
    const sets = new Map<string, { fleet: string; kind: string; key: string; delta: number }>();
    const pins = new Map<string, { fleet: string; host: string; pin: string; delta: number }>();
    const set = (fleet: string, kind: string, key: string, delta: number) => {
      const k = `${fleet}\u0000${kind}\u0000${key}`;
      const e = sets.get(k);
      if (e) e.delta += delta;
      else sets.set(k, { fleet, kind, key, delta });
    };
    for (const t of this.moves.values()) {
      const n = t.devices;
      if (t.toInstalled !== t.fromInstalled) {
        if (t.fromInstalled !== null) set(t.fleet, 'installed', t.fromInstalled, -n);
        if (t.toInstalled !== null) set(t.fleet, 'installed', t.toInstalled, n);
      }
      if (t.toVerified === t.fromVerified) continue;
      if (t.fromVerified !== null) set(t.fleet, 'verified', t.fromVerified, -n);
      if (t.toVerified !== null) set(t.fleet, 'verified', t.toVerified, n);
      const before = t.fromVerified === null ? null : this.viewOf(t.fromVerified);
      const after = t.toVerified === null ? null : this.viewOf(t.toVerified);
      for (const x of coverageDelta(before, after)) {
        const k = `${t.fleet}\u0000${x.host}\u0000${x.pin}`;
        const e = pins.get(k);
        if (e) e.delta += x.delta * n;
        else pins.set(k, { fleet: t.fleet, host: x.host, pin: x.pin, delta: x.delta * n });
      }
    }
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    this.totals = { sets: sorted(sets).filter((v) => v.delta !== 0), pins: sorted(pins) };
    return this.totals;
  }
}
