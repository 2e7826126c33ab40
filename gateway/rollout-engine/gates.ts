/**
 * Wave gates (SPEC §7): a wave advances when its success gate holds (default ≥ 95 % of its devices verified,
 * then a soak time); the rollout pauses by itself when failures exceed the error gate (default > 5 %
 * rejected/failed/timed out, evaluated once ≥ 10 devices have finished). Plus a telemetry gate and an optional
 * manual approval between waves. Pure; all percentages compared in integer basis points (no float boundary bugs).
 */
import { basisPoints } from './plan.js';
import type { PauseReason, RolloutState } from './rollout-state.js';

export interface GateConfig {
  /** Success gate: verified / wave size ≥ this percent. */
  readonly successPercent: number;
  /** The success gate must hold this long, uninterrupted, before the wave advances (also on the last wave). */
  readonly soakMs: number;
  /** Error gate: failed / finished > this percent pauses. */
  readonly errorPercent: number;
  /** …evaluated only once this many devices finished in the gate window. */
  readonly errorMinFinished: number;
  /** Telemetry gate: mismatch reports / reports > this percent pauses. */
  readonly telemetryMismatchPercent: number;
  /** …evaluated only once this many reports arrived in the gate window. */
  readonly telemetryMinReports: number;
  /** Pause for an operator between waves (after success gate + soak). */
  readonly manualApproval: boolean;
}

export const DEFAULT_GATES: GateConfig = {
  successPercent: 95,
  soakMs: 10 * 60_000,
  errorPercent: 5,
  errorMinFinished: 10,
  telemetryMismatchPercent: 1,
  telemetryMinReports: 10,
  manualApproval: false,
};

/**
 * Counts the gates read. The gateway can keep them as counters or compute them with `countForGates`.
 * - wave: devices enrolled in the current wave; `verified` of them.
 * - window: devices of the whole rollout that finished (VERIFIED, REJECTED, TIMED_OUT) at or after the gate
 *   window start, and the failed (REJECTED, TIMED_OUT) among them. Whole rollout, not wave: see decisions.
 * - telemetry: pin-validation reports received in the gate window from this rollout's devices that already run
 *   its seq (report field 5 = rollout seq), and the "mismatch" ones among them.
 */
export interface GateCounts {
  /** `failed`: wave members now REJECTED / TIMED_OUT (any time, not only in the gate window); 0 when omitted. */
  readonly wave: { readonly size: number; readonly verified: number; readonly failed?: number };
  readonly window: { readonly finished: number; readonly failed: number };
  readonly telemetry: { readonly reports: number; readonly mismatches: number };
}

export type GateDecision =
  /** Nothing to do; store `soakStartedAt` (it may have started or been reset). */
  | { readonly kind: 'hold'; readonly soakStartedAt: number | null; readonly why: string }
  | { readonly kind: 'advance' }
  | { readonly kind: 'approval' }
  | { readonly kind: 'complete' }
  | { readonly kind: 'pause'; readonly reason: PauseReason };

/** `num / den > percent`, exact. */
export function exceeds(num: number, den: number, percent: number): boolean {
  return num * 10_000 > basisPoints(percent) * den;
}

/** `num / den ≥ percent`, exact. An empty denominator reaches any percent. */
export function reaches(num: number, den: number, percent: number): boolean {
  return num * 10_000 >= basisPoints(percent) * den;
}

export function errorGateTrips(counts: GateCounts['window'], gates: GateConfig): boolean {
  return counts.finished >= gates.errorMinFinished && exceeds(counts.failed, counts.finished, gates.errorPercent);
}

export function telemetryGateTrips(counts: GateCounts['telemetry'], gates: GateConfig): boolean {
  return (
    counts.reports >= gates.telemetryMinReports &&
    exceeds(counts.mismatches, counts.reports, gates.telemetryMismatchPercent)
  );
}

/**
 * The wave's success gate can never hold again: even if every device that has not failed verified, fewer than
 * `successPercent` of the wave would be verified. Exact: (size − failed)·10⁴ < bp·size. Only an operator
 * (retry-failed, or advance past the wave) changes that.
 */
export function waveCannotSucceed(counts: GateCounts['wave'], gates: GateConfig): boolean {
  const failed = counts.failed ?? 0;
  return counts.size > 0 && failed > 0 && !reaches(counts.size - failed, counts.size, gates.successPercent);
}

export function successGateHolds(counts: GateCounts['wave'], gates: GateConfig): boolean {
  return reaches(counts.verified, counts.size, gates.successPercent);
}

/**
 * Decide what a RUNNING rollout does now. Order: error gate, telemetry gate (safety first), a wave that can no
 * longer pass (wave-failed), then the success gate with its soak, then approval (not after the last wave: completing needs no approval).
 * Any state other than RUNNING holds.
 */
export function evaluateGates(
  rollout: { readonly state: RolloutState; readonly config: { readonly gates: GateConfig } },
  counts: GateCounts,
  now: number,
): GateDecision {
  const { state } = rollout;
  const { gates } = rollout.config;
  if (state.kind !== 'RUNNING') return { kind: 'hold', soakStartedAt: null, why: `rollout is ${state.kind}` };
  if (errorGateTrips(counts.window, gates)) {
    return { kind: 'pause', reason: { kind: 'error-gate', ...counts.window } };
  }
  if (telemetryGateTrips(counts.telemetry, gates)) {
    return { kind: 'pause', reason: { kind: 'telemetry-gate', ...counts.telemetry } };
  }
  if (waveCannotSucceed(counts.wave, gates)) {
    return { kind: 'pause', reason: { kind: 'wave-failed', wave: state.wave, failed: counts.wave.failed ?? 0, size: counts.wave.size } };
  }
  if (!successGateHolds(counts.wave, gates)) {
    return {
      kind: 'hold',
      soakStartedAt: null,
      why: `success gate: ${counts.wave.verified}/${counts.wave.size} verified, need ${gates.successPercent} %`,
    };
  }
  const soakStartedAt = state.soakStartedAt ?? now;
  if (now - soakStartedAt < gates.soakMs) {
    return { kind: 'hold', soakStartedAt, why: `soaking until ${soakStartedAt + gates.soakMs}` };
  }
  const last = state.wave + 1 >= state.waveCount;
  if (last) return { kind: 'complete' };
  return gates.manualApproval ? { kind: 'approval' } : { kind: 'advance' };
}
