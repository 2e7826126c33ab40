/** Rollout answers (docs/api.md "Rollout"): the snapshot's state union, plan, config, waves, counts, gate, ETA. */
import { z } from 'zod';
import { executionCounts, executionKind, ms } from './common';

export const pauseReason = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('operator'), message: z.string() }),
  z.object({ kind: z.literal('error-gate'), failed: z.number().int(), finished: z.number().int() }),
  z.object({ kind: z.literal('telemetry-gate'), mismatches: z.number().int(), reports: z.number().int() }),
  z.object({ kind: z.literal('approval'), wave: z.number().int() }),
  z.object({ kind: z.literal('wave-failed'), wave: z.number().int(), failed: z.number().int(), size: z.number().int() }),
]);
export const abortReason = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('operator'), message: z.string() }),
  z.object({ kind: z.literal('superseded'), by: z.string() }),
]);

export const rolloutState = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('DRAFT') }),
  z.object({ kind: z.literal('RUNNING'), wave: z.number().int(), waveCount: z.number().int(), since: ms, soakStartedAt: ms.nullable() }),
  z.object({ kind: z.literal('PAUSED'), wave: z.number().int(), waveCount: z.number().int(), since: ms, reason: pauseReason }),
  z.object({ kind: z.literal('COMPLETED'), at: ms }),
  z.object({ kind: z.literal('ABORTED'), at: ms, reason: abortReason }),
]);

export const selector = z.object({ deviceClasses: z.array(z.string()).optional(), deviceIds: z.array(z.string()).optional(), labels: z.array(z.string()).optional() });
export const waveLimit = z.union([z.object({ count: z.number() }), z.object({ percent: z.number(), min: z.number().optional(), max: z.number().optional() })]);

export const gates = z.object({
  successPercent: z.number(),
  soakMs: z.number(),
  errorPercent: z.number(),
  errorMinFinished: z.number(),
  telemetryMismatchPercent: z.number(),
  telemetryMinReports: z.number(),
  manualApproval: z.boolean(),
});

export const eta = z.object({ remaining: z.number().int(), perMinute: z.number().nullable(), at: ms.nullable() });

export const gateDecision = z
  .object({ kind: z.enum(['hold', 'advance', 'approval', 'complete', 'pause']), why: z.string().optional(), soakStartedAt: ms.nullable().optional(), reason: pauseReason.optional() })
  .loose();

export const rollout = z.object({
  id: z.string(),
  fleet: z.string(),
  seq: z.number().int(),
  pinsetId: z.number().int(),
  createdAt: ms,
  createdBy: z.string(),
  updatedAt: ms,
  state: rolloutState,
  pauseReason: pauseReason.nullable(),
  abortReason: abortReason.nullable(),
  target: selector,
  targetDevices: z.number().int().nullable(),
  plan: z.object({ waves: z.array(z.object({ name: z.string().optional(), selector: selector.optional(), limit: waveLimit })) }),
  config: z.object({ gates, delivery: z.record(z.string(), z.number()), rate: z.object({ perSecond: z.number(), burst: z.number() }) }),
  gates,
  manualApproval: z.boolean(),
  gateWindowStart: ms,
  /** When and in which windows it may deliver (decisions-ops), or null. */
  schedule: z.object({ startAt: ms.nullable().optional(), windows: z.unknown().optional() }).loose().nullable().optional(),
  waves: z.array(
    z.object({
      index: z.number().int(),
      name: z.string(),
      limit: waveLimit,
      selector: selector.nullable(),
      startedAt: ms.nullable(),
      endedAt: ms.nullable(),
      enrolled: z.number().int().nullable(),
      counts: executionCounts,
      eta: eta.nullable(),
    }),
  ),
  executions: z.object({ total: z.number().int(), byKind: executionCounts, byWave: z.array(executionCounts) }),
  eta: eta.extend({ percent: z.number() }).nullable(),
  gate: z.object({ at: ms, decision: gateDecision }).nullable(),
  warnings: z.array(z.string()),
});
export const rollouts = z.array(rollout);

/** An execution's state, its own fields by kind (the engine's ExecutionState, SPEC §7). */
const states = [
  z.object({ kind: z.literal('QUEUED'), attempts: z.number().int(), nextAttemptAt: ms }),
  z.object({ kind: z.literal('DELIVERED'), attempts: z.number().int(), deliveredAt: ms }),
  z.object({ kind: z.literal('APPLIED'), attempts: z.number().int(), appliedAt: ms }),
  z.object({ kind: z.literal('VERIFIED'), attempts: z.number().int(), at: ms }),
  z.object({ kind: z.literal('REJECTED'), attempts: z.number().int(), code: z.string(), at: ms }),
  z.object({ kind: z.literal('TIMED_OUT'), attempts: z.number().int(), phase: z.enum(['delivery', 'verify']), at: ms }),
  z.object({ kind: z.literal('SUPERSEDED'), attempts: z.number().int(), at: ms }),
  z.object({ kind: z.literal('DECOMMISSIONED'), attempts: z.number().int(), at: ms }),
] as const;
export const executionState = z.discriminatedUnion('kind', [...states]);
/** GET /api/rollouts/:id/executions: one device's execution (its state's fields, and where it is in the rollout). */
const base = { deviceId: z.string(), wave: z.number().int(), enrolledAt: ms };
export const execution = z.discriminatedUnion('kind', [
  states[0].extend(base),
  states[1].extend(base),
  states[2].extend(base),
  states[3].extend(base),
  states[4].extend(base),
  states[5].extend(base),
  states[6].extend(base),
  states[7].extend(base),
]);
export const executionPage = z.object({ items: z.array(execution), nextCursor: z.string().nullable() });
