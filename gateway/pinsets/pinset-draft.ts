import { z } from 'zod';

const uint = z.number().int().nonnegative();

/**
 * A pin set as a publisher writes it (the vectors' JSON shape) with the fields the gateway can fill in left
 * optional: seq (next for the fleet), issuedAt (now), notAfter (issuedAt + validity), keysetVersion (current).
 * The SPEC §2 rules themselves (rule of two, sorting, DNS names…) are checked by shared's pinSetFromJson.
 */
export const pinsetDraftSchema = z
  .object({
    format: z.literal(1).optional(),
    seq: uint.min(1).optional(),
    issuedAt: uint.optional(),
    notAfter: uint.optional(),
    target: z
      .object({
        fleet: z.string().min(1).max(128),
        deviceClasses: z.array(z.string().min(1).max(128)).max(1000).optional(),
        deviceIds: z.array(z.string().min(1).max(128)).max(10_000).optional(),
      })
      .strict(),
    hosts: z
      .array(
        z
          .object({
            name: z.string().min(1).max(253),
            includeSubdomains: z.boolean(),
            pins: z.array(z.string().startsWith('sha256/')).min(1).max(16),
            enforce: z.boolean(),
            port: z.number().int().min(1).max(65535).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(64),
    keysetVersion: uint.optional(),
    failOpenAfter: uint.optional(),
  })
  .strict();

export type PinSetDraft = z.output<typeof pinsetDraftSchema>;
