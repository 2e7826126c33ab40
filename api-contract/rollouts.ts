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

/** GET /api/rollouts/:id/executions: the execution state's own fields (attempts, deliveredAt, code, phase …). */
export const execution = z
  .object({ deviceId: z.string(), wave: z.number().int(), enrolledAt: ms, kind: executionKind, attempts: z.number().int(), code: z.string().optional(), phase: z.string().optional() })
  .loose();
export const executionPage = z.object({ items: z.array(execution), nextCursor: z.string().nullable() });
