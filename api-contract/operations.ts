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

/** GET /api/security: counters since the gateway started; null where that part is not wired (API-only tests). */
export const security = z.object({
  broker: z
    .object({
      authFailures: z.number().int(),
      throttled: z.number().int(),
      droppedGone: z.number().int(),
      refusedBusy: z.number().int(),
      takeovers: z.number().int(),
      closedAtAccept: z.number().int(),
      checksRun: z.number().int(),
      checksInFlight: z.number().int(),
      checksQueued: z.number().int(),
      /** The MQTT/TLS listener's admission (gateway/broker/tls-admission.ts); null without a TLS listener. */
      tls: z
        .object({
          inProgress: z.number().int(),
          waiting: z.number().int(),
          handshakesStarted: z.number().int(),
          timedOut: z.number().int(),
          refusedFull: z.number().int(),
          skippedGone: z.number().int(),
          expiredWaiting: z.number().int(),
        })
        .nullable(),
    })
    .nullable(),
  telemetry: z.record(z.string(), z.number()).nullable(),
});
