/**
 * "When will it be done?" from the rates observed so far (issue 15): per wave, when its success gate will be met at
 * the verify rate the wave has shown since it started; for the rollout, when 95 % of its whole target will have
 * verified at the rate the rollout has shown since it started. Nothing is stored: counts and start times come from
 * the snapshot and the execution summary. An estimate is null when there is no rate yet (nothing verified) or
 * nothing left; `stalled` says the rollout does not move (paused, or no verification in the observed window).
 */
import type { ExecutionKind } from '../rollout-engine/index';

type Counts = Record<ExecutionKind, number>;

export interface Eta {
  /** Devices still to verify to reach the goal. */
  readonly remaining: number;
  /** Verified devices per minute, observed. */
  readonly perMinute: number | null;
  /** Unix ms when the goal is reached at that rate; null without a rate or when already reached. */
  readonly at: number | null;
}

const sum = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);

function estimate(remaining: number, verified: number, since: number | null, now: number, moving: boolean): Eta {
  const elapsed = since === null ? 0 : now - since;
  const perMinute = verified > 0 && elapsed > 0 ? (verified * 60_000) / elapsed : null;
  const at = remaining <= 0 || perMinute === null || !moving ? null : now + Math.ceil((remaining / perMinute) * 60_000);
  return { remaining: Math.max(0, remaining), perMinute: perMinute === null ? null : Math.round(perMinute * 100) / 100, at };
}

export function waveEta(counts: Counts, successPercent: number, startedAt: number | null, endedAt: number | null, now: number, moving: boolean): Eta | null {
  if (startedAt === null) return null;
  const size = sum(counts) - counts.SUPERSEDED;
  const needed = Math.ceil((size * successPercent) / 100);
  return estimate(needed - counts.VERIFIED, counts.VERIFIED, startedAt, endedAt ?? now, moving && endedAt === null);
}

/** 95 % of the rollout's whole target (the devices its selector takes now, not only those enrolled so far). */
export function fleetEta(verified: number, targetDevices: number, startedAt: number | null, now: number, moving: boolean, percent = 95): Eta & { percent: number } {
  const needed = Math.ceil((targetDevices * percent) / 100);
  return { percent, ...estimate(needed - verified, verified, startedAt, now, moving) };
}
