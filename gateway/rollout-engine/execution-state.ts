/**
 * One device's execution of a rollout (SPEC §7):
 * QUEUED → DELIVERED → APPLIED → VERIFIED, or REJECTED(code) | TIMED_OUT | SUPERSEDED | DECOMMISSIONED.
 *
 * `applyExecutionEvent` is total and pure: late, duplicate and out-of-order events are idempotent no-ops
 * (`changed: false`), never errors, because MQTT QoS 1 delivers at least once and devices reconnect at will.
 * An execution is one record per (rollout, device): counts are per device, never per attempt (SPEC §7).
 */

export type TimeoutPhase = 'delivery' | 'verify';

export type ExecutionState =
  /** Waiting to be sent: never sent yet (attempts 0), backing off after a failed attempt, or device offline. */
  | { readonly kind: 'QUEUED'; readonly attempts: number; readonly nextAttemptAt: number }
  /** Published to pins/v1/{id}/update; waiting for the "applied" ack. */
  | { readonly kind: 'DELIVERED'; readonly attempts: number; readonly deliveredAt: number }
  /** Device persisted the set; waiting for "verified". */
  | { readonly kind: 'APPLIED'; readonly attempts: number; readonly appliedAt: number }
  | { readonly kind: 'VERIFIED'; readonly attempts: number; readonly at: number }
  | { readonly kind: 'REJECTED'; readonly attempts: number; readonly code: string; readonly at: number }
  | { readonly kind: 'TIMED_OUT'; readonly attempts: number; readonly phase: TimeoutPhase; readonly at: number }
  | { readonly kind: 'SUPERSEDED'; readonly attempts: number; readonly at: number }
  /** The device was decommissioned while in flight: it left the fleet (and the wave's size); reversible. */
  | { readonly kind: 'DECOMMISSIONED'; readonly attempts: number; readonly at: number };

export type ExecutionKind = ExecutionState['kind'];

export const EXECUTION_KINDS: readonly ExecutionKind[] = [
  'QUEUED',
  'DELIVERED',
  'APPLIED',
  'VERIFIED',
  'REJECTED',
  'TIMED_OUT',
  'SUPERSEDED',
  'DECOMMISSIONED',
];

/** A count of 0 for every execution kind: the start of every per-kind tally (API views, storage, summaries). */
export function zeroExecutionCounts(): Record<ExecutionKind, number> {
  const r = {} as Record<ExecutionKind, number>;
  for (const k of EXECUTION_KINDS) r[k] = 0;
  return r;
}

export type ExecutionEvent =
  /** The gateway published the envelope (one delivery attempt). */
  | { readonly type: 'delivered'; readonly at: number }
  /** Acks (SPEC §6 status). */
  | { readonly type: 'applied'; readonly at: number }
  | { readonly type: 'verified'; readonly at: number }
  | { readonly type: 'rejected'; readonly at: number; readonly code: string }
  /** Timeout check with the injected clock. */
  | { readonly type: 'check'; readonly now: number }
  /** The device said hello (reconnect): serve it now instead of waiting for its backoff. */
  | { readonly type: 'reconnected'; readonly at: number }
  | { readonly type: 'superseded'; readonly at: number }
  /** Operator retry-failed: REJECTED / TIMED_OUT go back to QUEUED with a fresh attempt budget. */
  | { readonly type: 'retry'; readonly at: number }
  /** The device was decommissioned (in flight → DECOMMISSIONED) / recommissioned (DECOMMISSIONED → QUEUED). */
  | { readonly type: 'decommissioned'; readonly at: number }
  | { readonly type: 'recommissioned'; readonly at: number };

/** Delivery policy (SPEC §7 "delivery retries with backoff"). All durations in ms. */
export interface DeliveryPolicy {
  /** DELIVERED without an "applied" ack for this long = a failed attempt. */
  readonly deliveryTimeoutMs: number;
  /** APPLIED without "verified" for this long = TIMED_OUT(verify), final. */
  readonly verifyTimeoutMs: number;
  /** Deliveries per device before TIMED_OUT(delivery). */
  readonly maxAttempts: number;
  /** Backoff after failed attempt n (1-based) = min(backoffMaxMs, backoffBaseMs * 2^(n-1)). */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  deliveryTimeoutMs: 2 * 60_000,
  verifyTimeoutMs: 10 * 60_000,
  maxAttempts: 5,
  backoffBaseMs: 30_000,
  backoffMaxMs: 15 * 60_000,
};

export interface ExecutionTransition {
  readonly state: ExecutionState;
  readonly changed: boolean;
}

/** Initial state of a freshly enrolled device. */
export function queued(at: number): ExecutionState {
  return { kind: 'QUEUED', attempts: 0, nextAttemptAt: at };
}

/** Final for counting: the device finished (successfully or not) and no timer is running. */
export function isFinishedExecution(s: ExecutionState): boolean {
  return s.kind === 'VERIFIED' || s.kind === 'REJECTED' || s.kind === 'TIMED_OUT';
}

/** The failed subset of finished (SPEC §7 "rejected/failed/timed out"). */
export function isFailedExecution(s: ExecutionState): boolean {
  return s.kind === 'REJECTED' || s.kind === 'TIMED_OUT';
}

/**
 * The kinds still in flight: the rollout may act on them. The one definition of "active" (the driver, the slot
 * and the storage's "rollouts with stragglers" query all derive from it).
 */
export const ACTIVE_EXECUTION_KINDS: readonly ExecutionKind[] = ['QUEUED', 'DELIVERED', 'APPLIED'];

/** Still in flight: the rollout may act on it. */
export function isActiveExecution(s: Pick<ExecutionState, 'kind'>): boolean {
  return ACTIVE_EXECUTION_KINDS.includes(s.kind);
}

/** When a finished execution finished; null for non-finished. */
export function finishedAt(s: ExecutionState): number | null {
  return isFinishedExecution(s) ? (s as { at: number }).at : null;
}

/** Backoff before the next attempt after `failedAttempts` failed deliveries (≥ 1). No jitter: see decisions. */
export function backoffDelay(failedAttempts: number, policy: DeliveryPolicy): number {
  const n = Math.max(1, Math.floor(failedAttempts));
  // 2^(n-1) overflows to Infinity for large n; min() clamps it to the cap.
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (n - 1));
}

/** Earliest time something will change by itself (a timeout or a backoff expiring), or null. For tick scheduling. */
export function nextDeadline(s: ExecutionState, policy: DeliveryPolicy): number | null {
  switch (s.kind) {
    case 'QUEUED':
      return s.nextAttemptAt;
    case 'DELIVERED':
      return s.deliveredAt + policy.deliveryTimeoutMs;
    case 'APPLIED':
      return s.appliedAt + policy.verifyTimeoutMs;
    default:
      return null;
  }
}

const same = (state: ExecutionState): ExecutionTransition => ({ state, changed: false });
const to = (state: ExecutionState): ExecutionTransition => ({ state, changed: true });

/** A delivery attempt failed at `at` (timeout or reconnect without ack): back off, or give up at the cap. */
function failedAttempt(attempts: number, at: number, policy: DeliveryPolicy, backoff: boolean): ExecutionState {
  if (attempts >= policy.maxAttempts) return { kind: 'TIMED_OUT', attempts, phase: 'delivery', at };
  return { kind: 'QUEUED', attempts, nextAttemptAt: backoff ? at + backoffDelay(attempts, policy) : at };
}

/**
 * Apply one event. Rules (docs/decisions-rollout.md):
 * - progress only moves forward (QUEUED < DELIVERED < APPLIED < VERIFIED); an ack at or below the current step
 *   is a duplicate and a no-op, a "verified" without "applied" implies applied;
 * - VERIFIED and SUPERSEDED absorb everything; REJECTED absorbs acks until an operator retry;
 * - TIMED_OUT is the gateway's inference, an ack is the device's fact: a late "applied"/"verified"/"rejected"
 *   after TIMED_OUT wins (the device moves between counts, never into two);
 * - "rejected" after APPLIED is a no-op: the set is persisted, a rejected duplicate cannot un-apply it.
 */
export function applyExecutionEvent(
  s: ExecutionState,
  e: ExecutionEvent,
  policy: DeliveryPolicy,
): ExecutionTransition {
  if (s.kind === 'VERIFIED' || s.kind === 'SUPERSEDED') return same(s);
  // A decommissioned device's late acks change nothing (its credential no longer works); only recommission does.
  if (s.kind === 'DECOMMISSIONED') return e.type === 'recommissioned' ? to(queued(e.at)) : same(s);
  switch (e.type) {
    case 'delivered':
      if (s.kind === 'QUEUED') return to({ kind: 'DELIVERED', attempts: s.attempts + 1, deliveredAt: e.at });
      return same(s);

    case 'applied':
      if (s.kind === 'QUEUED' || s.kind === 'DELIVERED' || s.kind === 'TIMED_OUT') {
        // TIMED_OUT(verify) was already applied: its late "applied" is a duplicate.
        if (s.kind === 'TIMED_OUT' && s.phase === 'verify') return same(s);
        return to({ kind: 'APPLIED', attempts: s.attempts, appliedAt: e.at });
      }
      return same(s);

    case 'verified':
      if (s.kind === 'REJECTED') return same(s);
      return to({ kind: 'VERIFIED', attempts: s.attempts, at: e.at });

    case 'rejected':
      if (s.kind === 'QUEUED' || s.kind === 'DELIVERED' || (s.kind === 'TIMED_OUT' && s.phase === 'delivery')) {
        return to({ kind: 'REJECTED', attempts: s.attempts, code: e.code, at: e.at });
      }
      return same(s);

    case 'check':
      if (s.kind === 'DELIVERED') {
        const deadline = s.deliveredAt + policy.deliveryTimeoutMs;
        // Scheduled from the deadline, not from `now`: the schedule does not depend on the tick cadence.
        return e.now >= deadline ? to(failedAttempt(s.attempts, deadline, policy, true)) : same(s);
      }
      if (s.kind === 'APPLIED') {
        const deadline = s.appliedAt + policy.verifyTimeoutMs;
        return e.now >= deadline
          ? to({ kind: 'TIMED_OUT', attempts: s.attempts, phase: 'verify', at: deadline })
          : same(s);
      }
      return same(s);

    case 'reconnected':
      if (s.kind === 'QUEUED') return s.nextAttemptAt <= e.at ? same(s) : to({ ...s, nextAttemptAt: e.at });
      // Delivered but the device came back without acking: that attempt is lost; count it and resend now.
      if (s.kind === 'DELIVERED') return to(failedAttempt(s.attempts, e.at, policy, false));
      return same(s);

    case 'superseded':
      if (s.kind === 'QUEUED' || s.kind === 'DELIVERED' || s.kind === 'APPLIED') {
        return to({ kind: 'SUPERSEDED', attempts: s.attempts, at: e.at });
      }
      return same(s);

    case 'retry':
      if (s.kind === 'REJECTED' || s.kind === 'TIMED_OUT') return to(queued(e.at));
      return same(s);

    case 'decommissioned':
      // in flight only: a finished execution (verified, rejected, timed out) stays as history
      if (isActiveExecution(s)) return to({ kind: 'DECOMMISSIONED', attempts: s.attempts, at: e.at });
      return same(s);

    case 'recommissioned':
      return same(s);
  }
}
