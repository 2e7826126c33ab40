/** Pin-set answers (docs/api.md): the list, one set, publishing, delivery. */
import { z } from 'zod';
import { ms } from './common';

export const pinsetHost = z.object({
  name: z.string(),
  includeSubdomains: z.boolean(),
  pins: z.array(z.string()),
  enforce: z.boolean(),
  port: z.number().int().optional(),
});
/** The pin-set document as JSON (SPEC §2; times in unix seconds, as on the wire). */
export const pinsetDocument = z
  .object({
    format: z.number().int(),
    seq: z.number().int(),
    issuedAt: z.number(),
    notAfter: z.number(),
    target: z.object({ fleet: z.string(), deviceClasses: z.array(z.string()).optional(), deviceIds: z.array(z.string()).optional() }),
    hosts: z.array(pinsetHost),
    keysetVersion: z.number().int(),
    failOpenAfter: z.number().optional(),
  })
  .loose();

export const pinsetView = z.object({
  id: z.number().int(),
  fleet: z.string(),
  seq: z.number().int(),
  sha256: z.string(),
  keysetVersion: z.number().int(),
  source: z.enum(['gateway', 'offline']),
  createdAt: ms,
  createdBy: z.string(),
  releasedAt: ms.nullable(),
  acks: z.record(z.string(), z.number()),
  pinset: pinsetDocument,
});
export const pinsets = z.array(pinsetView);
export const pinsetWithEnvelope = pinsetView.extend({ envelope: z.string() });

export const liveCheckEntry = z.object({ host: z.string(), port: z.number().int(), status: z.enum(['ok', 'would-brick', 'unreachable']), detail: z.string() });
export const published = z.object({
  id: z.number().int(),
  fleet: z.string(),
  seq: z.number().int(),
  sha256: z.string(),
  keysetVersion: z.number().int(),
  liveCheck: z.array(liveCheckEntry),
});

export const delivered = z.object({
  pinsetId: z.number().int(),
  released: z.boolean(),
  devices: z.number().int(),
  published: z.number().int(),
  queued: z.number().int(),
  alreadyInstalled: z.number().int(),
  refused: z.number().int(),
  refusedDevices: z.array(z.object({ deviceId: z.string(), reason: z.string() })),
});
