/**
 * Pin lifecycle answers (issue 16: kill switch, drift and CT findings, guided rotation, admission), as the gateway
 * declares them on its routes and the dashboard parses them (issue 15). Times are unix milliseconds unless named
 * otherwise (a plan's `switchAt` is unix seconds, as the API takes it).
 */
import { z } from 'zod';
import { atRiskWhy, ms, pin, report } from './common';

export const killCoverage = z.object({
  /** Devices of the fleet (decommissioned excluded, SPEC §8). */
  total: z.number().int(),
  online: z.number().int(),
  /** Devices holding the kill set or newer. */
  have: z.number().int(),
  onlineHave: z.number().int(),
  percentOnline: z.number(),
  percentFleet: z.number(),
});
export const killSwitch = z.object({
  id: z.number().int(),
  fleet: z.string(),
  host: z.string(),
  mode: z.enum(['fail-open', 'unpin']),
  reason: z.string(),
  pinsetId: z.number().int(),
  seq: z.number().int(),
  baseSeq: z.number().int(),
  source: z.enum(['gateway', 'offline']),
  supersededRollouts: z.array(z.string()),
  createdAt: ms,
  createdBy: z.string(),
  coverage: killCoverage,
  /** The first later set that enforces the host again, if any. */
  reenabledBy: z.object({ pinsetId: z.number().int(), seq: z.number().int() }).nullable(),
});
export const killSwitches = z.array(killSwitch);
export const killSwitchEngaged = killSwitch.extend({
  delivery: z.object({ devices: z.number().int(), published: z.number().int(), queued: z.number().int(), alreadyInstalled: z.number().int(), refused: z.number().int() }),
});

export const findingKind = z.enum(['drift-unpinned', 'drift-low-coverage', 'ct-unpinned', 'ct-log-problem']);
export const finding = z.object({
  key: z.string(),
  source: z.enum(['drift', 'ct']),
  kind: findingKind,
  severity: z.enum(['critical', 'warning']),
  fleet: z.string().nullable(),
  host: z.string(),
  summary: z.string(),
  detail: z.record(z.string(), z.unknown()),
  firstSeenAt: ms,
  lastSeenAt: ms,
  resolvedAt: ms.nullable(),
  /** An operator acknowledged it (POST /api/findings/acknowledge); it stays open until the watch no longer sees it. */
  acknowledgedAt: ms.nullable(),
  acknowledgedBy: z.string().nullable(),
});

const runCounts = { raised: z.number().int(), cleared: z.number().int(), open: z.number().int() };
export const driftRun = z.object({
  startedAt: ms,
  endedAt: ms,
  trigger: z.enum(['schedule', 'on-demand']),
  probes: z.array(z.object({ host: z.string(), port: z.number().int(), ok: z.boolean(), servedPin: z.string().nullable(), error: z.string().nullable() })),
  ...runCounts,
});
export const ctRun = z.object({
  startedAt: ms,
  endedAt: ms,
  trigger: z.enum(['schedule', 'on-demand']),
  logs: z.array(
    z.object({ log: z.string(), ok: z.boolean(), treeSize: z.number().int(), fetched: z.number().int(), kept: z.number().int(), unparsed: z.number().int(), error: z.string().nullable() }),
  ),
  ...runCounts,
});
export const findings = z.object({
  open: z.array(finding),
  resolved: z.array(finding),
  lastRuns: z.object({ drift: driftRun.nullable(), ct: ctRun.nullable() }),
});
export const driftWatch = z.object({ lastRun: driftRun.nullable() });

export const loggedCertificate = z.object({
  log: z.string(),
  index: z.number().int(),
  entryType: z.enum(['x509', 'precert']),
  names: z.array(z.string()),
  pin: z.string(),
  issuer: z.string(),
  serial: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  loggedAt: ms,
});
export const ctWatch = z.object({ configured: z.boolean(), lastRun: ctRun.nullable(), certificates: z.number().int() });
export const loggedCertificates = z.array(loggedCertificate);
/** A mismatch report (common.report) classified against the CT logs. */
export const mismatch = report.extend({
  classification: z.enum(['logged-for-our-name', 'not-logged']),
  certificates: z.array(loggedCertificate),
});
export const mismatches = z.array(mismatch);

export const PLAN_STEPS = ['planned', 'published', 'rolling-out', 'safe-to-switch', 'switched', 'finishing', 'done', 'cancelled'] as const;
export const planStep = z.enum(PLAN_STEPS);
const gateSummary = z.object({
  ready: z.boolean(),
  coverage: z.number(),
  verified: z.number().int(),
  total: z.number().int(),
  target: z.number(),
  atRisk: z.number().int(),
  atRiskBy: z.record(atRiskWhy, z.number().int()),
  atRiskOffline: z.number().int(),
});
export const rotationPlan = z.object({
  id: z.number().int(),
  fleet: z.string(),
  host: z.string(),
  port: z.number().int().nullable(),
  currentPin: pin,
  nextPin: pin,
  backupPin: pin,
  newNextPin: pin.nullable(),
  target: z.number(),
  /** Planned switch time, unix seconds. */
  switchAt: z.number().nullable(),
  step: planStep,
  history: z.array(z.object({ at: ms, actor: z.string(), action: z.string(), from: planStep, to: planStep, detail: z.record(z.string(), z.unknown()).optional() })),
  stage1PinsetId: z.number().int().nullable(),
  stage1RolloutId: z.string().nullable(),
  stage2PinsetId: z.number().int().nullable(),
  stage2RolloutId: z.string().nullable(),
  createdAt: ms,
  createdBy: z.string(),
  updatedAt: ms,
  expectedAction: z.string().nullable(),
  gate: gateSummary,
  prediction: gateSummary
    .extend({
      /** unix seconds */
      at: z.number(),
      devices: z.array(z.object({ deviceId: z.string(), online: z.boolean(), installedSeq: z.number().int(), why: atRiskWhy })),
      nextCursor: z.string().nullable(),
    })
    .nullable(),
  /** The state of each stage's rollout, when started. */
  rollouts: z.object({ stage1: z.string().nullable(), stage2: z.string().nullable() }),
});
export const rotationPlans = z.array(rotationPlan);

export const admissionDecision = z.object({
  allowed: z.boolean(),
  pin,
  hosts: z.array(z.string()),
  atRisk: z.number().int(),
  fleets: z.array(z.object({ fleet: z.string(), host: z.string(), ready: z.boolean(), coverage: z.number(), target: z.number(), atRisk: z.number().int() })),
});
/** Kubernetes admission.k8s.io/v1 AdmissionReview answer. */
export const admissionReview = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  response: z.object({
    uid: z.string(),
    allowed: z.boolean(),
    status: z.object({ code: z.number().int(), reason: z.string().optional(), message: z.string() }).optional(),
    warnings: z.array(z.string()).optional(),
  }),
});
