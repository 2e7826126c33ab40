import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../webhooks/webhook-events';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https anywhere; plain http only to this machine (a receiver beside the gateway, tests): payloads are not secret, but the network path is. */
const webhookUrl = z
  .string()
  .max(2048)
  .refine((u) => {
    try {
      const url = new URL(u);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
    } catch {
      return false;
    }
  }, 'expected an https:// URL (http:// only to 127.0.0.1, localhost or [::1])');

const rotationWatch = z
  .object({
    fleet: z.string().min(1).max(128),
    host: z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'expected a DNS host name'),
    pin: z.string().regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'expected a pin "sha256/" + base64 of 32 bytes'),
    target: z.number().min(0.01).max(100).default(95),
  })
  .strict();

export const createWebhookBody = z
  .object({
    url: webhookUrl,
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
    /** The rotation gates "rotation.ready" watches. */
    rotations: z.array(rotationWatch).max(100).default([]),
    description: z.string().max(200).default(''),
  })
  .strict()
  .refine((b) => !b.events.includes('rotation.ready') || b.rotations.length > 0, {
    message: '"rotation.ready" needs at least one entry in rotations: [{fleet, host, pin, target}]',
    path: ['rotations'],
  });

export const deadLettersQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

export const webhookIdParam = z.coerce.number().int().positive();
