/**
 * Operator commands (POST /api/rollouts/:id/(start|pause|resume|abort|advance|retry-failed), docs/api.md) and
 * supersede (SPEC §7), as pure functions over the snapshot and execution rows. They change state and enrol
 * waves but send nothing: the driver runs `step` right after (or on its next tick) to deliver.
 */
import { isActiveExecution } from './execution-state.js';
import type { DeviceInfo } from './plan.js';
import type { TransitionError } from './rollout-state.js';
import type { ExecutionRecord, RolloutSnapshot } from './snapshot.js';
import { beginWork, execEvent, finishWork, rolloutEvent, type StepResult } from './engine-work.js';
import { waveMayStart } from './schedule.js';

export type OperatorCommand =
  | { readonly type: 'start' }
  | { readonly type: 'pause'; readonly reason?: string }
  | { readonly type: 'resume' }
  | { readonly type: 'abort'; readonly reason?: string }
  | { readonly type: 'advance' }
  | { readonly type: 'retry-failed' };

export interface CommandInput {
  readonly now: number;
  readonly executions: readonly ExecutionRecord[];
  /** Needed by start / advance / resume-after-approval (they enrol a wave). */
  readonly devices: readonly DeviceInfo[];
}

export type CommandResult =
  | { readonly ok: true; readonly result: StepResult }
  | { readonly ok: false; readonly error: TransitionError };

export function applyOperatorCommand(
  rollout: RolloutSnapshot,
  command: OperatorCommand,
  input: CommandInput,
): CommandResult {
  const { now, devices } = input;
  const w = beginWork(rollout, input.executions);
  const fail = (message: string): CommandResult => ({ ok: false, error: { code: 'E_TRANSITION', message } });
  let r: { ok: true } | { ok: false; error: TransitionError };
  switch (command.type) {
    case 'start': {
      // The first wave too starts only inside a maintenance window; startAt lets the driver start it later.
      const may = waveMayStart(rollout.config.schedule, now);
      if (!may.ok && rollout.state.kind === 'DRAFT') return fail(`cannot start now: ${may.why} (or give schedule.startAt)`);
      w.rollout = { ...w.rollout, gateWindowStart: now };
      r = rolloutEvent(w, { type: 'start', at: now, waveCount: rollout.plan.waves.length }, devices);
      break;
    }
    case 'pause':
      r = rolloutEvent(w, { type: 'pause', at: now, message: command.reason ?? '' }, devices);
      break;
    case 'resume': {
      const s = rollout.state;
      // The operator has seen the failures that tripped a gate: count afresh from now (docs/decisions-rollout.md).
      if (s.kind === 'PAUSED' && (s.reason.kind === 'error-gate' || s.reason.kind === 'telemetry-gate')) {
        w.rollout = { ...w.rollout, gateWindowStart: now };
      }
      r = rolloutEvent(w, { type: 'resume', at: now }, devices);
      break;
    }
    case 'abort':
      r = rolloutEvent(w, { type: 'abort', at: now, message: command.reason ?? '' }, devices);
      break;
    case 'advance':
      r = rolloutEvent(w, { type: 'advance', at: now, by: 'operator' }, devices);
      break;
    case 'retry-failed': {
      const k = rollout.state.kind;
      if (k === 'DRAFT' || k === 'ABORTED') return fail(`cannot retry-failed a rollout in state ${k}`);
      for (const e of [...w.execs.values()]) execEvent(w, e, { type: 'retry', at: now }, now);
      r = { ok: true };
      break;
    }
  }
  if (!r.ok) return r;
  return { ok: true, result: finishWork(w) };
}

/**
 * A newer pin set for the same fleet started a rollout (`byRolloutId`): this one ends as ABORTED(superseded)
 * unless already COMPLETED/ABORTED, and its non-final executions become SUPERSEDED in every case (a finished
 * rollout's stragglers must not get the older set later). VERIFIED/REJECTED/TIMED_OUT rows stay: history.
 */
export function supersede(
  rollout: RolloutSnapshot,
  executions: readonly ExecutionRecord[],
  byRolloutId: string,
  now: number,
): StepResult {
  const w = beginWork(rollout, executions);
  rolloutEvent(w, { type: 'superseded', at: now, by: byRolloutId }, []);
  for (const e of [...w.execs.values()]) {
    if (isActiveExecution(e.state)) execEvent(w, e, { type: 'superseded', at: now }, now);
  }
  return finishWork(w);
}
