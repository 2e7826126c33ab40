import type { RolloutStateKind } from './rollout-state.js';

/**
 * SPEC §2: seq is strictly increasing per fleet, and a device refuses a lower seq (E_ROLLBACK). So once a rollout of
 * a newer seq has started delivering to a fleet (running, paused or completed), a rollout of an older seq may neither
 * be created nor started: its devices would refuse it, or worse, it would undo the newer set where it has not landed.
 * The one rule, used by the factory (create) and the driver (start/resume).
 */
const DELIVERING: ReadonlySet<RolloutStateKind> = new Set<RolloutStateKind>(['RUNNING', 'PAUSED', 'COMPLETED']);

export function newerSeqInTheWay<R extends { readonly seq: number; readonly state: string }>(
  fleetRollouts: readonly R[],
  seq: number,
): R | undefined {
  return fleetRollouts.find((r) => r.seq > seq && DELIVERING.has(r.state as RolloutStateKind));
}
