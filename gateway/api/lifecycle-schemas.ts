import { z } from 'zod';

/** Request shapes of the pin lifecycle routes (issue 16): kill switch, findings, guided rotation, admission. */
const name = z.string().min(1).max(128);
export const hostName = z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'expected a DNS host name');
const base64 = z.string().min(1).max(32_768).regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'expected base64');
const reason = z.string().trim().min(3, 'a reason of at least 3 characters is required (it goes to the audit log)').max(1000);
export const pinText = z.string().regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'expected a pin "sha256/" + base64 of 32 bytes');

/** Typed confirmation (as on the dashboard): the operator types the host name again. */
const confirmed = (b: { host: string; confirm: string }) => b.confirm.trim().toLowerCase() === b.host.toLowerCase();
const confirmIssue = { message: 'confirm must repeat the host name exactly (typed confirmation)', path: ['confirm'] };

export const killSwitchBody = z
  .object({ fleet: name, host: hostName, mode: z.enum(['fail-open', 'unpin']).default('fail-open'), reason, confirm: z.string() })
  .strict()
  .refine(confirmed, confirmIssue);
export const killSwitchEnvelopeBody = z.object({ envelope: base64, host: hostName, reason, confirm: z.string() }).strict().refine(confirmed, confirmIssue);
export const killSwitchListQuery = z.object({ fleet: name.optional() }).strict();

export const findingsQuery = z
  .object({ kind: z.enum(['drift', 'ct']).optional(), fleet: name.optional(), host: hostName.optional() })
  .strict();

/** A finding's key as the watches name it (e.g. `ct:host:log-url:index`, `drift:fleet:host:port`). */
export const acknowledgeFindingBody = z.object({ key: z.string().min(1).max(2048) }).strict();

export const ctCertificatesQuery = z.object({ host: hostName.optional() }).strict();
export const mismatchesQuery = z
  .object({ fleet: name.optional(), host: hostName.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();

const keyInput = z.string().min(10).max(16_384);
const uintSeconds = z.number().int().positive();

export const createPlanBody = z
  .object({
    fleet: name,
    host: hostName,
    port: z.number().int().min(1).max(65535).optional(),
    current: keyInput,
    next: keyInput,
    backup: keyInput,
    target: z.number().min(0.01).max(100).optional(),
    switchAt: uintSeconds.optional(),
  })
  .strict();

export const planActionBody = z
  .object({
    reason: z.string().max(1000).optional(),
    newNext: keyInput.optional(),
    rollout: z
      .object({ plan: z.unknown().optional(), gates: z.record(z.string(), z.unknown()).optional(), manualApproval: z.boolean().optional(), rate: z.record(z.string(), z.unknown()).optional() })
      .strict()
      .optional(),
    force: z.boolean().optional(),
    switchAt: uintSeconds.optional(),
  })
  .strict();

export const plansQuery = z.object({ fleet: name.optional(), host: hostName.optional() }).strict();

export const admissionCheckBody = z.object({ host: hostName, key: keyInput }).strict();

/** AdmissionReview (admission.k8s.io/v1): the envelope is checked; the Secret inside is read leniently. */
export const admissionReviewBody = z
  .object({
    apiVersion: z.literal('admission.k8s.io/v1'),
    kind: z.literal('AdmissionReview'),
    request: z
      .object({
        uid: z.string().min(1).max(128),
        operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
        kind: z.object({ group: z.string().optional(), version: z.string().optional(), kind: z.string().optional() }).loose().optional(),
        name: z.string().optional(),
        namespace: z.string().optional(),
        object: z.unknown().optional(),
      })
      .loose(),
  })
  .loose();
