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

export const ctCertificatesQuery = z.object({ host: hostName.optional() }).strict();
export const mismatchesQuery = z
  .object({ fleet: name.optional(), host: hostName.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();
