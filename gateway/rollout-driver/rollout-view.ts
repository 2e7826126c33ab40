import type { RolloutRow } from '../registry/repositories';
import { EXECUTION_KINDS, type ExecutionKind, type ExecutionSummary } from '../rollout-engine/index';

const zero = (): Record<ExecutionKind, number> => Object.fromEntries(EXECUTION_KINDS.map((k) => [k, 0])) as Record<ExecutionKind, number>;

/**
 * A rollout as the API answers it (docs/api.md "Rollout"): the snapshot's state, plan and config, one entry per
 * plan wave (started or not) with its execution counts, overall counts, the last gate decision and the reasons.
 */
export function rolloutView(row: RolloutRow, executions: ExecutionSummary) {
  const s = row.snapshot;
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
    plan: s.plan,
    config: s.config,
    gates: s.config.gates,
    /** startAt (ms) and maintenance windows, or null: started by hand, waves at any time. */
    schedule: s.config.schedule ?? null,
    manualApproval: s.config.gates.manualApproval,
    gateWindowStart: s.gateWindowStart,
    waves: s.plan.waves.map((spec, index) => {
      const started = s.waves.find((w) => w.index === index);
      return {
        index,
        name: spec.name ?? `wave ${index + 1}`,
        limit: spec.limit,
        selector: spec.selector ?? null,
        startedAt: started?.startedAt ?? null,
        endedAt: started?.endedAt ?? null,
        enrolled: started?.enrolled ?? null,
        counts: executions.byWave[index] ?? zero(),
      };
    }),
    executions: { total: executions.total, byKind: executions.byKind, byWave: executions.byWave },
    /** The last gate decision of a tick: {at, decision: {kind: hold|advance|approval|complete|pause, …}}. */
    gate: row.lastGate,
    warnings: row.warnings,
  };
}
