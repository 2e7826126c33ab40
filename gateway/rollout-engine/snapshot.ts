/**
 * The persisted shape of a rollout (SPEC §7): plain JSON, no classes, no hidden state. A gateway that restarts
 * mid-wave loads the snapshot and the execution rows and continues with identical results.
 */
import { resolveConfig, type RolloutConfig } from './config.js';
import {
  EXECUTION_KINDS,
  zeroExecutionCounts,
  finishedAt,
  isFailedExecution,
  type ExecutionKind,
  type ExecutionState,
} from './execution-state.js';
import type { GateCounts } from './gates.js';
import { DEFAULT_PLAN, validatePlan, validateSelector, type Plan, type Selector } from './plan.js';
import type { RolloutState } from './rollout-state.js';
import { fullBucket, type TokenBucket } from './token-bucket.js';

export const SNAPSHOT_FORMAT = 1;

/** One started wave. Device membership lives in the execution records (`wave`). */
export interface WaveRecord {
  readonly index: number;
  readonly startedAt: number;
  /** Devices enrolled into it (late joiners included). */
  readonly enrolled: number;
  /** When it passed (advance/complete/approval) or the rollout ended during it; null while current. */
  readonly endedAt: number | null;
}

export interface RolloutSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly id: string;
  readonly fleet: string;
  /** The pin set's seq (SPEC §2); acks for another seq are not for this rollout. */
  readonly seq: number;
  /** The pin set's target lists (SPEC §2 key 5) as a selector over the fleet. */
  readonly target: Selector;
  readonly plan: Plan;
  readonly config: RolloutConfig;
  readonly state: RolloutState;
  readonly createdAt: number;
  readonly waves: readonly WaveRecord[];
  /**
   * Start of the gate window: the error and telemetry gates count only what finished/arrived at or after it.
   * Set at start and moved to `now` when an operator resumes a gate pause (see decisions).
   */
  readonly gateWindowStart: number;
  readonly bucket: TokenBucket;
}

/** One device's execution; one row per (rolloutId, deviceId). */
export interface ExecutionRecord {
  readonly rolloutId: string;
  readonly deviceId: string;
  /** Wave the device was enrolled in. */
  readonly wave: number;
  readonly enrolledAt: number;
  readonly state: ExecutionState;
}

export interface CreateRolloutInput {
  readonly id: string;
  readonly fleet: string;
  readonly seq: number;
  readonly target?: unknown;
  /** User plan (validated) or the SPEC §7 default. */
  readonly plan?: unknown;
  /** Partial config (validated) merged over the defaults. */
  readonly config?: unknown;
  readonly now: number;
}

export type CreateRolloutResult =
  | { readonly ok: true; readonly rollout: RolloutSnapshot; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** A new DRAFT rollout. */
export function createRollout(input: CreateRolloutInput): CreateRolloutResult {
  const errors: string[] = [];
  if (typeof input.id !== 'string' || input.id.length === 0) errors.push('id: must be a non-empty string');
  if (typeof input.fleet !== 'string' || input.fleet.length === 0) errors.push('fleet: must be a non-empty string');
  if (!Number.isSafeInteger(input.seq) || input.seq < 0) errors.push('seq: must be an unsigned integer');
  if (!Number.isFinite(input.now)) errors.push('now: must be a number (ms)');
  const target = input.target === undefined ? {} : validateSelector(input.target, 'target', errors) ?? {};
  let plan: Plan = DEFAULT_PLAN;
  let warnings: readonly string[] = [];
  if (input.plan !== undefined) {
    const p = validatePlan(input.plan);
    if (p.ok) ({ plan, warnings } = p);
    else errors.push(...p.errors);
  }
  const c = resolveConfig(input.config);
  if (!c.ok) errors.push(...c.errors);
  if (errors.length > 0 || !c.ok) return { ok: false, errors };
  return {
    ok: true,
    warnings,
    rollout: {
      format: SNAPSHOT_FORMAT,
      id: input.id,
      fleet: input.fleet,
      seq: input.seq,
      target,
      plan,
      config: c.config,
      state: { kind: 'DRAFT' },
      createdAt: input.now,
      waves: [],
      gateWindowStart: input.now,
      bucket: fullBucket(c.config.rate, input.now),
    },
  };
}

export function serializeSnapshot(rollout: RolloutSnapshot): string {
  return JSON.stringify(rollout);
}

/** Parse a stored snapshot. Light structural check: the gateway wrote it, but a wrong format must not go on. */
export function parseSnapshot(text: string): { ok: true; rollout: RolloutSnapshot } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, error: 'not an object' };
  const o = v as Record<string, unknown>;
  if (o['format'] !== SNAPSHOT_FORMAT) return { ok: false, error: `unsupported snapshot format ${String(o['format'])}` };
  for (const k of ['id', 'fleet', 'seq', 'target', 'plan', 'config', 'state', 'waves', 'gateWindowStart', 'bucket']) {
    if (!(k in o)) return { ok: false, error: `missing ${k}` };
  }
  return { ok: true, rollout: v as RolloutSnapshot };
}

/** Execution counts per state, overall and per wave (GET /api/rollouts/:id). */
export interface ExecutionSummary {
  readonly total: number;
  readonly byKind: Readonly<Record<ExecutionKind, number>>;
  readonly byWave: ReadonlyArray<Readonly<Record<ExecutionKind, number>>>;
}

const zero = zeroExecutionCounts;

export function summarizeExecutions(executions: readonly ExecutionRecord[]): ExecutionSummary {
  const byKind = zero();
  const byWave: Record<ExecutionKind, number>[] = [];
  for (const e of executions) {
    byKind[e.state.kind] += 1;
    while (byWave.length <= e.wave) byWave.push(zero());
    (byWave[e.wave] as Record<ExecutionKind, number>)[e.state.kind] += 1;
  }
  return { total: executions.length, byKind, byWave };
}

/** The counts `evaluateGates` needs, from execution rows (telemetry comes from the report store). */
export function countForGates(
  rollout: RolloutSnapshot,
  executions: readonly ExecutionRecord[],
  telemetry: GateCounts['telemetry'] = { reports: 0, mismatches: 0 },
): GateCounts {
  const wave = rollout.state.kind === 'RUNNING' || rollout.state.kind === 'PAUSED' ? rollout.state.wave : -1;
  let size = 0;
  let verified = 0;
  let waveFailed = 0;
  let finished = 0;
  let failed = 0;
  for (const e of executions) {
    // a decommissioned device left the fleet: it is not part of its wave's size
    if (e.wave === wave && e.state.kind !== 'DECOMMISSIONED') {
      size += 1;
      if (e.state.kind === 'VERIFIED') verified += 1;
      else if (isFailedExecution(e.state)) waveFailed += 1;
    }
    const at = finishedAt(e.state);
    if (at !== null && at >= rollout.gateWindowStart) {
      finished += 1;
      if (isFailedExecution(e.state)) failed += 1;
    }
  }
  return { wave: { size, verified, failed: waveFailed }, window: { finished, failed }, telemetry };
}
