/**
 * A device leaves the fleet (decommissioned) or comes back (recommissioned), as pure functions over one rollout
 * and the device's execution: in flight → DECOMMISSIONED (the wave's size shrinks, so its gates are judged on
 * the devices that remain); DECOMMISSIONED → QUEUED on return. The driver steps the rollout afterwards.
 */
import { beginWork, execEvent, finishWork, type StepResult } from './engine-work.js';
import type { ExecutionRecord, RolloutSnapshot } from './snapshot.js';

export function onDecommission(rollout: RolloutSnapshot, execution: ExecutionRecord, decommissioned: boolean, now: number): StepResult {
  const w = beginWork(rollout, [execution]);
  execEvent(w, execution, { type: decommissioned ? 'decommissioned' : 'recommissioned', at: now }, now);
  return finishWork(w);
}
