/** Operations answers: webhooks and their dead letters, decommissioning, device log-in counters (docs/api.md). */
import { z } from 'zod';
import { ms, pin } from './common';

const rotationWatch = z.object({ fleet: z.string(), host: z.string(), pin, target: z.number() });
/** A registered webhook as listed: never its signing secret. */
export const webhook = z.object({
  id: z.number().int(),
  url: z.string(),
  events: z.array(z.string()),
  rotations: z.array(rotationWatch),
  description: z.string(),
  createdAt: ms,
  createdBy: z.string(),
});
export const webhooks = z.array(webhook);
/** POST /api/webhooks: the one time the secret is shown. */
export const webhookCreated = webhook.extend({ secret: z.string() });
export const deleted = z.object({ id: z.number().int(), deleted: z.literal(true) });
export const queued = z.object({ queued: z.number().int(), deliveryId: z.string().optional() });
export const deadLetter = z.object({
  id: z.number().int(),
  webhookId: z.number().int(),
  deliveryId: z.string(),
  eventType: z.string(),
  url: z.string(),
  payload: z.unknown(),
  attempts: z.number().int(),
  lastError: z.string(),
  failedAt: ms,
});
export const deadLetters = z.array(deadLetter);

export const decommissioned = z.object({ deviceId: z.string(), fleet: z.string(), decommissioned: z.boolean(), sessionClosed: z.boolean() });

/** GET /api/security (issue 17): its schema lives in ./security.ts, the one declared on the route. */
export { security } from './security';
