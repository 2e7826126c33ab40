/**
 * Coverage and the rotation gate (SPEC §8), pure helpers.
 *
 * Coverage of pin P for host H = devices of the fleet (offline included, decommissioned excluded) whose
 * VERIFIED installed set pins P for H, divided by all devices of the fleet. Counters are shaped for incremental
 * upkeep: when a device's verified set changes, `coverageDelta(before, after)` gives the ±1 rows to add in the
 * same SQLite transaction as the ack. Pins are in text form ('sha256/…', SPEC §1); times in ms except the pin
 * set's own `failOpenAfter` (unix seconds, SPEC §2).
 */
import { reaches } from '../rollout-engine/gates.js';

export const DEFAULT_COVERAGE_TARGET = 95;

export interface HostPinsView {
  readonly name: string;
  readonly includeSubdomains: boolean;
  readonly pins: readonly string[];
  readonly enforce: boolean;
}

/** The parts of a pin set (SPEC §2) coverage needs. */
export interface PinSetView {
  readonly hosts: readonly HostPinsView[];
  /** Unix seconds (SPEC §2 key 8). */
  readonly failOpenAfter?: number;
}

/** host entry name → pin → number of devices whose verified set pins it. Plain JSON. */
export type CoverageCounters = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface CoverageDelta {
  readonly host: string;
  readonly pin: string;
  readonly delta: 1 | -1;
}

export interface CoverageRow {
  readonly host: string;
  readonly pin: string;
  readonly verified: number;
  readonly total: number;
  /** 0..100, rounded to 2 decimals for display; decisions use exact integer comparisons. */
  readonly percent: number;
}

function pairs(set: PinSetView | null): Set<string> {
  const out = new Set<string>();
  if (set === null) return out;
  for (const h of set.hosts) for (const p of h.pins) out.add(`${h.name.toLowerCase()}\u0000${p}`);
  return out;
}

/**
 * Counter changes when one device's verified set goes from `before` to `after` (null = none: new device, or
 * decommissioned). Pairs present in both are untouched, so re-verifying the same set is a no-op.
 */
export function coverageDelta(before: PinSetView | null, after: PinSetView | null): CoverageDelta[] {
  const a = pairs(before);
  const b = pairs(after);
  const out: CoverageDelta[] = [];
  for (const k of [...new Set([...a, ...b])].sort()) {
    if (a.has(k) === b.has(k)) continue;
    const [host = '', pin = ''] = k.split('\u0000');
    out.push({ host, pin, delta: b.has(k) ? 1 : -1 });
  }
  return out;
}

/** Apply deltas to in-memory counters (the SQLite driver does `count = count + delta` instead). */
export function applyCoverageDelta(counters: CoverageCounters, deltas: readonly CoverageDelta[]): CoverageCounters {
  const out: Record<string, Record<string, number>> = {};
  for (const [h, m] of Object.entries(counters)) out[h] = { ...m };
  for (const d of deltas) {
    const m = (out[d.host] ??= {});
    const n = (m[d.pin] ?? 0) + d.delta;
    if (n > 0) m[d.pin] = n;
    else delete m[d.pin];
    if (Object.keys(m).length === 0) delete out[d.host];
  }
  return out;
}

/** Percent for display. An empty fleet is fully covered (nobody can lose connectivity). */
export function coveragePercent(verified: number, total: number): number {
  if (total <= 0) return 100;
  return Math.round((verified * 10_000) / total) / 100;
}

/** GET /api/fleets/:fleet/coverage rows, sorted by host then pin. */
export function coverageRows(counters: CoverageCounters, fleetSize: number): CoverageRow[] {
  const rows: CoverageRow[] = [];
  for (const host of Object.keys(counters).sort()) {
    const m = counters[host] ?? {};
    for (const pin of Object.keys(m).sort()) {
      const verified = m[pin] ?? 0;
      rows.push({ host, pin, verified, total: fleetSize, percent: coveragePercent(verified, fleetSize) });
    }
  }
  return rows;
}

/**
 * The host entry that governs `host` on a device: an exact name match, else the most specific parent entry
 * with includeSubdomains (as Android NSC / OkHttp resolve it). Null when the set does not pin the host.
 */
export function pinsForHost(set: PinSetView, host: string): HostPinsView | null {
  const name = host.toLowerCase().replace(/\.$/, '');
  const byName = new Map(set.hosts.map((h) => [h.name.toLowerCase(), h] as const));
  const exact = byName.get(name);
  if (exact !== undefined) return exact;
  const labels = name.split('.');
  for (let i = 1; i < labels.length; i++) {
    const parent = byName.get(labels.slice(i).join('.'));
    if (parent?.includeSubdomains === true) return parent;
  }
  return null;
}

/**
 * SPEC §8: a device would lose connectivity if H switched to key K now ⇔ its installed set enforces H, does not
 * pin K for H, and its fail-open date is not reached (the device falls back only *after* failOpenAfter).
 * Uses the installed set (what the device enforces), verified or not.
 */
export function wouldLoseConnectivity(installed: PinSetView, host: string, pin: string, now: number): boolean {
  const entry = pinsForHost(installed, host);
  if (entry === null || !entry.enforce || entry.pins.includes(pin)) return false;
  return installed.failOpenAfter === undefined || now <= installed.failOpenAfter * 1000;
}

export interface Readiness {
  readonly ready: boolean;
  /** Percent, 2 decimals. */
  readonly coverage: number;
  readonly target: number;
  readonly atRisk: number;
}

/**
 * "ready / not ready" (SPEC §8): ready ⇔ verified / fleetSize ≥ target, compared exactly. `atRisk` is reported,
 * not part of the decision: at a 95 % target up to 5 % may still be at risk — that is the operator's call.
 */
export function readiness(input: {
  readonly verified: number;
  readonly fleetSize: number;
  readonly atRisk: number;
  readonly target?: number;
}): Readiness {
  const target = input.target ?? DEFAULT_COVERAGE_TARGET;
  return {
    ready: input.fleetSize <= 0 || reaches(input.verified, input.fleetSize, target),
    coverage: coveragePercent(input.verified, input.fleetSize),
    target,
    atRisk: input.atRisk,
  };
}

/** One device of the fleet (decommissioned excluded) for a readiness pass. */
export interface DeviceCoverageInput {
  readonly deviceId: string;
  /** Its installed set; null = it has none (not pinned); undefined = unknown (never said hello). */
  readonly installed: PinSetView | null | undefined;
  /** The installed set was verified (SPEC §6). */
  readonly verified: boolean;
}

export interface ReadinessTally {
  readonly total: number;
  /** Devices whose verified set pins `pin` for `host` (effective entry, includeSubdomains honoured). */
  readonly verified: number;
  readonly atRisk: number;
  /** Ids of at-risk devices, sorted, at most `listLimit`. */
  readonly atRiskIds: readonly string[];
  /** Devices whose installed set is unknown: not counted at risk, not covered. */
  readonly unknown: number;
}

/** Single pass over the fleet: the numbers for `readiness` plus the at-risk list (rotation-readiness API). */
export function tallyReadiness(
  devices: Iterable<DeviceCoverageInput>,
  host: string,
  pin: string,
  now: number,
  listLimit = 1000,
): ReadinessTally {
  let total = 0;
  let verified = 0;
  let unknown = 0;
  const risky: string[] = [];
  for (const d of devices) {
    total += 1;
    if (d.installed === undefined) {
      unknown += 1;
      continue;
    }
    if (d.installed === null) continue;
    if (d.verified && pinsForHost(d.installed, host)?.pins.includes(pin) === true) verified += 1;
    if (wouldLoseConnectivity(d.installed, host, pin, now)) risky.push(d.deviceId);
  }
  risky.sort();
  return { total, verified, atRisk: risky.length, atRiskIds: risky.slice(0, Math.max(0, listLimit)), unknown };
}
