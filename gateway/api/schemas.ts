import { z } from 'zod';
import { ROLES } from '../auth/api-tokens';

const deviceId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'device ids are 1–128 of A-Z a-z 0-9 . _ -');
const name = z.string().min(1).max(128);
const base64 = z.string().min(1).max(32_768).regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'expected base64');
const hexKey = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a 32-byte Ed25519 public key in hex');
const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

export const createTokenBody = z.object({ name, role: z.enum(ROLES) }).strict();

export const enrolDeviceBody = z
  .object({
    deviceId,
    fleet: name,
    deviceClass: name,
    labels: z.array(z.string().min(1).max(64)).max(32).default([]),
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
  })
  .strict();

export const fleetQuery = z.object({ fleet: name.optional() }).strict();

export const envelopeBody = z.object({ envelope: base64 }).strict();

export const deliverBody = z.object({ deviceIds: z.array(deviceId).min(1).max(100_000).optional() }).strict();

export const rotateKeysetBody = z.object({ publicKeys: z.array(hexKey).min(2).max(16), envelope: base64.optional() }).strict();

export const auditQuery = z.object({ limit: limit(1000, 100), cursor: z.coerce.number().int().positive().optional() }).strict();

export const idParam = z.coerce.number().int().positive();

/** Base64 (standard or url-safe) to bytes. */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'));
}
