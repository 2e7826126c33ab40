/**
 * The gateway API's answers as zod schemas (issue 15 "one typed API contract"): the gateway declares them on its
 * routes (OpenAPI `responses`, and a conformance test parses real answers with them), the dashboard parses the
 * answers it reads with the same schemas. This folder imports nothing internal except shared/ (check-imports.mjs),
 * so the dashboard may import it without reaching gateway internals. Times are unix milliseconds unless named
 * otherwise.
 */
import { z } from 'zod';

export const EXECUTION_KINDS = ['QUEUED', 'DELIVERED', 'APPLIED', 'VERIFIED', 'REJECTED', 'TIMED_OUT', 'SUPERSEDED', 'DECOMMISSIONED'] as const;
export const executionKind = z.enum(EXECUTION_KINDS);
export const ROLE_NAMES = ['viewer', 'publisher', 'operator', 'admin'] as const;
export const role = z.enum(ROLE_NAMES);

export const executionCounts = z.object(Object.fromEntries(EXECUTION_KINDS.map((k) => [k, z.number().int()])) as Record<(typeof EXECUTION_KINDS)[number], z.ZodNumber>);

export const ms = z.number();
export const pin = z.string().startsWith('sha256/');

export const apiError = z.object({ error: z.object({ code: z.string().startsWith('E_'), message: z.string() }).loose() });

export const whoami = z.object({ name: z.string().nullable(), role: role.nullable() });
export const createdToken = z.object({ token: z.string(), name: z.string(), role, expiresAt: ms.nullable() });
/** GET /api/tokens: never the secret nor its hash (issue 17). */
export const tokenInfo = z.object({
  name: z.string(),
  role,
  createdAt: ms,
  createdBy: z.string(),
  expiresAt: ms.nullable(),
  revokedAt: ms.nullable(),
  lastUsedAt: ms.nullable(),
});
export const tokens = z.array(tokenInfo);
export const revokedToken = z.object({ name: z.string(), revokedAt: ms });
export const enrolled = z.object({ deviceId: z.string(), fleet: z.string(), deviceClass: z.string(), credential: z.string() });
export const fleet = z.object({ fleet: z.string(), devices: z.number().int(), online: z.number().int(), latestSeq: z.number().int() });
export const fleets = z.array(fleet);

export const auditEntry = z.object({
  id: z.number().int(),
  at: ms,
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export const auditPage = z.object({ items: z.array(auditEntry), nextCursor: z.string().nullable() });

export const coverageRow = z.object({ host: z.string(), pin, verified: z.number().int(), total: z.number().int(), percent: z.number() });
export const coverage = z.array(coverageRow);

export const atRiskWhy = z.enum(['pin-absent', 'never-said-hello', 'unrecognised-set']);
export const readiness = z.object({
  fleet: z.string(),
  host: z.string(),
  pin,
  ready: z.boolean(),
  coverage: z.number(),
  verified: z.number().int(),
  total: z.number().int(),
  target: z.number(),
  atRisk: z.number().int(),
  atRiskBy: z.record(atRiskWhy, z.number().int()),
  devices: z.array(z.object({ deviceId: z.string(), online: z.boolean(), installedSeq: z.number().int(), why: atRiskWhy })),
  nextCursor: z.string().nullable(),
});

const readinessSummary = z.object({ ready: z.boolean(), coverage: z.number(), verified: z.number().int(), total: z.number().int(), target: z.number(), atRisk: z.number().int() }).loose();
export const rotationRecorded = z.object({
  id: z.number().int(),
  recorded: z.literal(true),
  forced: z.boolean(),
  fleet: z.string(),
  host: z.string(),
  pin,
  reason: z.string().nullable(),
  recordedAt: ms,
  readiness: readinessSummary,
});
export const rotation = z.object({
  id: z.number().int(),
  fleet: z.string(),
  host: z.string(),
  pin,
  forced: z.boolean(),
  reason: z.string().nullable(),
  coverage: z.number(),
  target: z.number(),
  atRisk: z.number().int(),
  recordedAt: ms,
  recordedBy: z.string(),
});
export const rotations = z.array(rotation);

export const telemetryPoint = z.object({ t: ms, ok: z.number(), mismatch: z.number(), failOpen: z.number() });
export const telemetry = z.array(telemetryPoint);
export const report = z.object({
  id: z.number().int(),
  deviceId: z.string(),
  fleet: z.string(),
  host: z.string(),
  port: z.number().int(),
  result: z.string(),
  servedPins: z.array(z.string()),
  installedSeq: z.number().int(),
  /** unix seconds, the device's clock */
  deviceTime: z.number(),
  receivedAt: ms,
});
export const reports = z.array(report);

export const keyset = z.object({ version: z.number().int(), publicKeys: z.array(z.string()), signed: z.boolean(), createdAt: ms, createdBy: z.string().nullable() });
export const keysets = z.array(keyset);
export const keysetRotated = z.object({ version: z.number().int(), publicKeys: z.array(z.string()), gatewayCanSign: z.boolean(), pushed: z.number().int() });
