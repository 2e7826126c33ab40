/** Device answers: the list (cursor pages, or a scan with totals), one device with its history and rollouts. */
import { z } from 'zod';
import { executionKind, ms } from './common';
import { executionState } from './rollouts';

export const device = z.object({
  deviceId: z.string(),
  fleet: z.string(),
  deviceClass: z.string(),
  labels: z.array(z.string()),
  firmware: z.string().nullable(),
  online: z.boolean(),
  lastSeen: ms.nullable(),
  installedSeq: z.number().int(),
  installedSha256: z.string().nullable(),
  verifiedSeq: z.number().int(),
  keysetVersion: z.number().int(),
  assignedPinsetId: z.number().int().nullable(),
  flagged: z.object({ reason: z.string(), at: ms.nullable(), count: z.number().int() }).nullable(),
  decommissioned: z.boolean(),
  createdAt: ms,
  /** With ?rollout=: the device's execution in that rollout. */
  execution: z.object({ kind: executionKind, wave: z.number().int(), code: z.string().nullable() }).optional(),
});

export const devicePage = z.object({
  items: z.array(device),
  nextCursor: z.string().nullable(),
  // scan mode (rollout, execState, atRisk*, sort, order, offset, withTotal)
  total: z.number().int().optional(),
  totalCapped: z.boolean().optional(),
  offset: z.number().int().optional(),
  nextOffset: z.number().int().nullable().optional(),
  prevOffset: z.number().int().nullable().optional(),
});

export const historyEntry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ack'), at: ms, seq: z.number().int(), sha256: z.string(), status: z.string(), code: z.string().nullable(), pinsetId: z.number().int().nullable() }),
  z.object({
    type: z.literal('report'),
    at: ms,
    host: z.string(),
    port: z.number().int(),
    result: z.string(),
    servedPins: z.array(z.string()),
    installedSeq: z.number().int(),
    deviceTime: z.number(),
  }),
]);

export const deviceDetail = device.extend({
  /**
   * The device's security counters since the gateway started (issue 17): refused log-ins (wrong credential) and
   * throttled ones with the last one's time and address, session takeovers with the last one's (the second
   * connection's) address and time, telemetry reports dropped; null when the gateway has no embedded broker figures.
   */
  security: z
    .object({
      authFailures: z.number().int(),
      throttled: z.number().int(),
      takeovers: z.number().int(),
      lastFailureAt: ms.nullable().optional(),
      lastFailureFrom: z.string().nullable().optional(),
      lastTakeoverAt: ms.nullable().optional(),
      lastTakeoverFrom: z.string().nullable().optional(),
      reportsDropped: z.object({ duplicate: z.number().int(), overLimit: z.number().int() }).optional(),
    })
    .loose()
    .nullable()
    .optional(),
  malformed: z.array(z.object({ kind: z.string(), code: z.string(), count: z.number().int(), lastAt: ms, lastDetail: z.string().nullable() })),
  history: z.array(historyEntry),
  rollouts: z.array(
    z.object({
      id: z.string(),
      seq: z.number().int(),
      state: z.string(),
      wave: z.number().int(),
      execution: executionState,
    }),
  ),
});
