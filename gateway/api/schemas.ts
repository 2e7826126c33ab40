import { z } from 'zod';
import { ROLES } from '../auth/api-tokens';
import { deviceId, label, slug } from './identifiers';

/** Fleets and device classes (URL path segments, hello fields): see ./identifiers.ts for each alphabet. */
const name = slug;
const base64 = z.string().min(1).max(32_768).regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'expected base64');
const hexKey = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a 32-byte Ed25519 public key in hex');
const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

/** Expiry (issue 17): an absolute `expiresAt` (ms, checked to be in the future by the route) or `ttlDays`, not both. */
export const createTokenBody = z
  .object({
    name: label,
    role: z.enum(ROLES),
    expiresAt: z.number().int().positive().optional(),
    ttlDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
  .refine((b) => b.expiresAt === undefined || b.ttlDays === undefined, { message: 'give expiresAt or ttlDays, not both' });

export const enrolDeviceBody = z
  .object({
    deviceId,
    fleet: name,
    deviceClass: name,
    labels: z.array(label).max(32).default([]),
  })
  .strict();

export const listDevicesQuery = z
  .object({
    fleet: name.optional(),
    deviceClass: name.optional(),
    online: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    seq: z.coerce.number().int().nonnegative().optional(),
    state: z.enum(['flagged', 'decommissioned', 'active']).optional(),
    q: z.string().min(1).max(128).optional(),
    limit: limit(1000, 100),
    cursor: deviceId.optional(),
    // issue 15 (device-query.ts): any of these answers from a scan, with total, sort and offset paging
    rollout: z.string().min(1).max(64).optional(),
    execState: z
      .string()
      .max(100)
      .refine((v) => v.split(',').every((s) => (EXECUTION_STATE_NAMES as readonly string[]).includes(s)), { message: 'execState: QUEUED, DELIVERED, APPLIED, VERIFIED, REJECTED, TIMED_OUT, SUPERSEDED, DECOMMISSIONED' })
      .optional(),
    atRiskHost: z.string().min(1).max(253).optional(),
    atRiskPin: z.string().startsWith('sha256/').max(100).optional(),
    sort: z.enum(['deviceId', 'lastSeen', 'verifiedSeq', 'installedSeq', 'firmware', 'online']).optional(),
    order: z.enum(['asc', 'desc']).optional(),
    offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
    withTotal: z.enum(['true', 'false']).optional(),
  })
  .strict()
  .refine((v) => v.execState === undefined || v.rollout !== undefined, { message: 'execState needs rollout', path: ['execState'] })
  .refine((v) => (v.atRiskHost === undefined) === (v.atRiskPin === undefined), { message: 'atRiskHost and atRiskPin go together', path: ['atRiskPin'] });

const EXECUTION_STATE_NAMES = ['QUEUED', 'DELIVERED', 'APPLIED', 'VERIFIED', 'REJECTED', 'TIMED_OUT', 'SUPERSEDED', 'DECOMMISSIONED'] as const;

export const fleetQuery = z.object({ fleet: name.optional() }).strict();

export const envelopeBody = z.object({ envelope: base64 }).strict();

/** Bodies that may list many device ids (deliver, a rollout plan's selectors): 100,000 ids of up to 40 bytes. */
export const BULK_BODY_BYTES = 4 * 1024 * 1024;
/** Decommission needs a reason (it is audited and shown to the next operator). */
export const decommissionBody = z.object({ reason: z.string().trim().min(1, 'say why the device is retired').max(500) }).strict();
export const recommissionBody = z.object({ reason: z.string().trim().max(500).optional() }).strict();

export const deliverBody = z.object({ deviceIds: z.array(deviceId).min(1).max(100_000).optional() }).strict();

/**
 * Keyset rotation (admin only). A rotation that leaves out the gateway's signer or a backup signer of the current
 * keyset must say so with `removeSigners: true` and a written reason (audited): without the gateway signer every
 * JSON pin set is refused with E_NO_SIGNER, without the backup there is no offline rescue (SPEC §5).
 */
export const rotateKeysetBody = z
  .object({
    publicKeys: z.array(hexKey).min(2).max(16),
    envelope: base64.optional(),
    removeSigners: z.boolean().optional(),
    reason: z.string().max(2000).optional(),
  })
  .strict()
  .refine((b) => b.removeSigners !== true || (b.reason ?? '').trim().length > 0, {
    path: ['reason'],
    message: 'removing a signer needs a written reason',
  });

export const auditQuery = z
  .object({
    limit: limit(1000, 100),
    cursor: z.coerce.number().int().positive().optional(),
    /** Exact actor (token name or "gateway"). */
    actor: z.string().min(1).max(200).optional(),
    /** An action, or a prefix ending in "." (e.g. "rollout." for every rollout action). */
    action: z.string().min(1).max(100).optional(),
    /** Exact target (a rollout id, a device id, "fleet/host" …). */
    target: z.string().min(1).max(300).optional(),
  })
  .strict();

export const idParam = z.coerce.number().int().positive();

/** Base64 (standard or url-safe) to bytes. */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'));
}

// ---- rollouts, coverage, rotations, telemetry (issue 5) ----------------------------------------------------------

const percent = z.number().min(0).max(100);
const pinText = z.string().regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'expected a pin "sha256/" + base64 of 32 bytes');
const hostName = z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'expected a DNS host name');

/** Shapes only: the engine (gateway/rollout) checks ranges and plan rules and answers 400 E_BAD_BODY with each problem. */
export const createRolloutBody = z
  .object({
    pinsetId: z.number().int().positive(),
    plan: z
      .object({
        waves: z
          .array(
            z
              .object({
                name: z.string().max(64).optional(),
                selector: z
                  .object({
                    deviceClasses: z.array(z.string().max(128)).max(10_000).optional(),
                    deviceIds: z.array(z.string().max(128)).max(100_000).optional(),
                    labels: z.array(z.string().max(128)).max(1000).optional(),
                  })
                  .strict()
                  .optional(),
                limit: z.union([z.object({ count: z.number() }).strict(), z.object({ percent: z.number(), min: z.number().optional(), max: z.number().optional() }).strict()]),
              })
              .strict(),
          )
          .min(1)
          .max(32),
      })
      .strict()
      .optional(),
    gates: z
      .object({
        successPercent: percent.optional(),
        soakMs: z.number().int().nonnegative().optional(),
        errorPercent: percent.optional(),
        errorMinFinished: z.number().int().positive().optional(),
        telemetryMismatchPercent: percent.optional(),
        telemetryMinReports: z.number().int().positive().optional(),
        manualApproval: z.boolean().optional(),
      })
      .strict()
      .optional(),
    manualApproval: z.boolean().optional(),
    delivery: z
      .object({
        deliveryTimeoutMs: z.number().int().optional(),
        verifyTimeoutMs: z.number().int().optional(),
        maxAttempts: z.number().int().optional(),
        backoffBaseMs: z.number().int().optional(),
        backoffMaxMs: z.number().int().optional(),
      })
      .strict()
      .optional(),
    rate: z.object({ perSecond: z.number().positive().optional(), burst: z.number().int().positive().optional() }).strict().optional(),
    /**
     * startAt: ISO 8601 with an offset, or ms since the epoch. windows: {timeZone, weekly} (the engine checks
     * the ranges), null = none even if the fleet has windows; absent = the fleet's (PINGW_MAINTENANCE_WINDOWS).
     */
    schedule: z
      .object({
        startAt: z
          .union([z.number().int().nonnegative(), z.string().datetime({ offset: true }).transform((t) => Date.parse(t))])
          .optional(),
        windows: z.union([z.null(), z.object({ timeZone: z.string(), weekly: z.array(z.string()) }).strict()]).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const rolloutActionBody = z.object({ reason: z.string().max(1000).optional() }).strict();

const EXECUTION_STATES = ['QUEUED', 'DELIVERED', 'APPLIED', 'VERIFIED', 'REJECTED', 'TIMED_OUT', 'SUPERSEDED', 'DECOMMISSIONED'] as const;

export const executionsQuery = z
  .object({
    /** One state or several, comma-separated (e.g. REJECTED,TIMED_OUT). */
    state: z
      .string()
      .max(100)
      .refine((v) => v.split(',').every((s) => (EXECUTION_STATES as readonly string[]).includes(s)), { message: `states are ${EXECUTION_STATES.join(', ')}` })
      .optional(),
    wave: z.coerce.number().int().min(0).max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const listRolloutsQuery = z
  .object({ fleet: name.optional(), state: z.enum(['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'ABORTED']).optional() })
  .strict();

export const readinessQuery = z
  .object({
    host: hostName,
    pin: pinText,
    target: z.coerce.number().min(0.01).max(100).default(95),
    limit: limit(1000, 100),
    cursor: deviceId.optional(),
    /** Predict for a planned switch time T (unix seconds) instead of now: fail-open dates are compared with T (issue 16 §5). */
    at: z.coerce.number().int().positive().optional(),
  })
  .strict();

export const rotationBody = z
  .object({
    fleet: name,
    host: hostName,
    pin: pinText,
    target: z.number().min(0.01).max(100).optional(),
    force: z.boolean().optional(),
    reason: z.string().max(2000).optional(),
  })
  .strict()
  .refine((b) => b.force !== true || (b.reason ?? '').trim().length > 0, {
    path: ['reason'],
    message: 'a forced rotation needs a written reason',
  });

export const rotationsQuery = z.object({ fleet: name.optional(), host: hostName.optional(), limit: limit(1000, 100) }).strict();

export const telemetryQuery = z
  .object({
    fleet: name.optional(),
    host: hostName.optional(),
    bucketSeconds: z.coerce
      .number()
      .int()
      .min(60)
      .max(86_400)
      .refine((n) => n % 60 === 0, 'a multiple of 60 (buckets are kept per minute)')
      .default(60),
    /** Unix seconds (or ms: values ≥ 10^12 are taken as ms). Default: the last 24 h. */
    since: z.coerce.number().nonnegative().optional(),
  })
  .strict();

export const reportsQuery = z.object({ fleet: name.optional(), host: hostName.optional(), limit: limit(1000, 50) }).strict();
