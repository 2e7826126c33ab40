import type { RolloutRow } from '../registry/repositories';
import { zeroExecutionCounts, type ExecutionKind, type ExecutionSummary } from '../rollout-engine/index';
import { fleetEta, waveEta } from './rollout-eta';

const zero = zeroExecutionCounts;

/** What the view computes from outside the rollout row: the size of its target now, and the time. */
export interface RolloutViewContext {
  /** Devices the rollout's target selects in its fleet now (null: not computed). */
  readonly targetDevices: number | null;
  readonly now: number;
}

/**
 * A rollout as the API answers it (docs/api.md "Rollout"): the snapshot's state, plan and config, one entry per
 * plan wave (started or not) with its execution counts, overall counts, the last gate decision and the reasons.
 * With a context (issue 15, additive fields): `targetDevices` (the denominator of progress), an ETA per wave and
 * for 95 % of the target from observed verify rates.
 */
export function rolloutView(row: RolloutRow, executions: ExecutionSummary, ctx?: RolloutViewContext) {
  const s = row.snapshot;
  const moving = s.state.kind === 'RUNNING';
  const firstStart = s.waves.reduce<number | null>((a, w) => (a === null || w.startedAt < a ? w.startedAt : a), null);
  const targetDevices = ctx === undefined || ctx.targetDevices === null ? null : Math.max(ctx.targetDevices, executions.total);
  return {
    id: row.id,
    fleet: row.fleet,
    seq: row.seq,
    pinsetId: row.pinsetId,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    updatedAt: row.updatedAt,
    state: s.state,
    pauseReason: s.state.kind === 'PAUSED' ? s.state.reason : null,
    abortReason: s.state.kind === 'ABORTED' ? s.state.reason : null,
    target: s.target,
    targetDevices,
    plan: s.plan,
    config: s.config,
    gates: s.config.gates,
    /** startAt (ms) and maintenance windows, or null: started by hand, waves at any time. */
    schedule: s.config.schedule ?? null,
    manualApproval: s.config.gates.manualApproval,
    gateWindowStart: s.gateWindowStart,
    waves: s.plan.waves.map((spec, index) => {
      const started = s.waves.find((w) => w.index === index);
      const counts = executions.byWave[index] ?? zero();
      return {
        index,
        name: spec.name ?? `wave ${index + 1}`,
        limit: spec.limit,
        selector: spec.selector ?? null,
        startedAt: started?.startedAt ?? null,
        endedAt: started?.endedAt ?? null,
        enrolled: started?.enrolled ?? null,
        counts,
        eta: ctx === undefined ? null : waveEta(counts, s.config.gates.successPercent, started?.startedAt ?? null, started?.endedAt ?? null, ctx.now, moving),
      };
    }),
    executions: { total: executions.total, byKind: executions.byKind, byWave: executions.byWave },
    eta: ctx === undefined || targetDevices === null ? null : fleetEta(executions.byKind.VERIFIED, targetDevices, firstStart, ctx.now, moving),
    /** The last gate decision of a tick: {at, decision: {kind: hold|advance|approval|complete|pause, …}}. */
    gate: row.lastGate,
    warnings: row.warnings,
  };
}
