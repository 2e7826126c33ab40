/**
 * Internal scratchpad shared by the engine entry points (engine-step.ts, engine-commands.ts): a copy of the
 * snapshot plus the execution rows being changed, the I/O commands and the notes. Not exported from index.ts.
 * Everything here is synchronous and deterministic; inputs are never mutated.
 */
import { applyExecutionEvent, queued, type ExecutionEvent, type ExecutionKind } from './execution-state.js';
import { assignWave, matchesSelector, type DeviceInfo } from './plan.js';
import { transition, type RolloutEvent, type RolloutStateKind, type TransitionError } from './rollout-state.js';
import type { ExecutionRecord, RolloutSnapshot, WaveRecord } from './snapshot.js';

/** I/O the driver performs after persisting the result: publish the envelope to pins/v1/{deviceId}/update. */
export type RolloutCommand = { readonly type: 'deliver'; readonly deviceId: string; readonly attempt: number };

/** Things worth an audit entry / server-sent event. */
export type RolloutNote =
  | {
      readonly type: 'state';
      readonly at: number;
      readonly from: RolloutStateKind;
      readonly to: RolloutStateKind;
      readonly event: RolloutEvent['type'];
    }
  | { readonly type: 'wave-started'; readonly at: number; readonly wave: number; readonly enrolled: number }
  | { readonly type: 'wave-skipped'; readonly at: number; readonly wave: number }
  | { readonly type: 'enrolled'; readonly at: number; readonly deviceId: string; readonly wave: number }
  | {
      readonly type: 'execution';
      readonly at: number;
      readonly deviceId: string;
      readonly from: ExecutionKind;
      readonly to: ExecutionKind;
    };

export interface StepResult {
  /** The new snapshot: persist it (it is the input of the next call). */
  readonly rollout: RolloutSnapshot;
  /** Execution rows that are new or changed: upsert them in the same transaction as the snapshot. */
  readonly executions: readonly ExecutionRecord[];
  /** Publish after the transaction commits. */
  readonly commands: readonly RolloutCommand[];
  readonly notes: readonly RolloutNote[];
}

export interface Work {
  rollout: RolloutSnapshot;
  readonly execs: Map<string, ExecutionRecord>;
  readonly changed: Set<string>;
  readonly commands: RolloutCommand[];
  readonly notes: RolloutNote[];
}

export function beginWork(rollout: RolloutSnapshot, executions: readonly ExecutionRecord[]): Work {
  const execs = new Map<string, ExecutionRecord>();
  for (const e of executions) if (e.rolloutId === rollout.id) execs.set(e.deviceId, e);
  return { rollout, execs, changed: new Set(), commands: [], notes: [] };
}

export function finishWork(w: Work): StepResult {
  const executions: ExecutionRecord[] = [];
  for (const id of [...w.changed].sort()) {
    const e = w.execs.get(id);
    if (e !== undefined) executions.push(e);
  }
  return { rollout: w.rollout, executions, commands: w.commands, notes: w.notes };
}

/** Apply an execution event to one row; records the change. Returns the new row. */
export function execEvent(w: Work, rec: ExecutionRecord, event: ExecutionEvent, at: number): ExecutionRecord {
  const r = applyExecutionEvent(rec.state, event, w.rollout.config.delivery);
  if (!r.changed) return rec;
  const next: ExecutionRecord = { ...rec, state: r.state };
  w.execs.set(rec.deviceId, next);
  w.changed.add(rec.deviceId);
  if (r.state.kind !== rec.state.kind) {
    w.notes.push({ type: 'execution', at, deviceId: rec.deviceId, from: rec.state.kind, to: r.state.kind });
  }
  return next;
}

export function enroll(w: Work, deviceId: string, wave: number, at: number): void {
  w.execs.set(deviceId, { rolloutId: w.rollout.id, deviceId, wave, enrolledAt: at, state: queued(at) });
  w.changed.add(deviceId);
}

/** Devices of the fleet this rollout's pin set targets (SPEC §2 key 5). */
export function eligible(w: Work, devices: readonly DeviceInfo[]): DeviceInfo[] {
  return devices.filter((d) => matchesSelector(d, w.rollout.target));
}

export function currentWave(w: Work): number | null {
  const s = w.rollout.state;
  return s.kind === 'RUNNING' || s.kind === 'PAUSED' ? s.wave : null;
}

function closeWave(w: Work, index: number, at: number): void {
  w.rollout = {
    ...w.rollout,
    waves: w.rollout.waves.map((r) => (r.index === index && r.endedAt === null ? { ...r, endedAt: at } : r)),
  };
}

export function bumpEnrolled(w: Work, index: number, n: number): void {
  w.rollout = {
    ...w.rollout,
    waves: w.rollout.waves.map((r) => (r.index === index ? { ...r, enrolled: r.enrolled + n } : r)),
  };
}

/**
 * Apply a rollout event; on a wave change close the old wave and enrol the new one (skipping empty waves).
 * `devices` is needed only when the event can start a wave.
 */
export function rolloutEvent(
  w: Work,
  event: RolloutEvent,
  devices: readonly DeviceInfo[],
): { ok: true } | { ok: false; error: TransitionError } {
  const before = w.rollout.state;
  const r = transition(before, event);
  if (!r.ok) return r;
  w.rollout = { ...w.rollout, state: r.state };
  if (r.state.kind !== before.kind) {
    w.notes.push({ type: 'state', at: event.at, from: before.kind, to: r.state.kind, event: event.type });
  }
  const oldWave = before.kind === 'RUNNING' || before.kind === 'PAUSED' ? before.wave : null;
  const newWave = currentWave(w);
  if (oldWave !== null && oldWave !== newWave) closeWave(w, oldWave, event.at);
  if (newWave !== null && newWave !== oldWave) startWave(w, devices, event.at);
  return { ok: true };
}

/** Enrol the current wave's devices; an empty wave is skipped at once (advance by gate). */
function startWave(w: Work, devices: readonly DeviceInfo[], at: number): void {
  const index = currentWave(w);
  if (index === null) return;
  const remaining = eligible(w, devices).filter((d) => !w.execs.has(d.deviceId));
  const ids = assignWave(w.rollout.plan, index, remaining, w.rollout.id);
  for (const id of ids) enroll(w, id, index, at);
  const record: WaveRecord = { index, startedAt: at, enrolled: ids.length, endedAt: ids.length === 0 ? at : null };
  w.rollout = { ...w.rollout, waves: [...w.rollout.waves.filter((r) => r.index !== index), record] };
  if (ids.length > 0) {
    w.notes.push({ type: 'wave-started', at, wave: index, enrolled: ids.length });
    return;
  }
  w.notes.push({ type: 'wave-skipped', at, wave: index });
  // Recursion depth ≤ number of waves (MAX_WAVES); the event is always legal from RUNNING.
  rolloutEvent(w, { type: 'advance', at, by: 'gate' }, devices);
}
