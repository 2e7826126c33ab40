/**
 * GET /api/security (issue 17 "count it where operators see it"): the security counters of this gateway process
 * since it started — log-in failures and throttling, session takeovers, refused publishes, malformed payloads,
 * reports over the per-device cap, flags — per fleet and for the devices most affected, with the broker's
 * admission figures, the report limiter's counts and the API's refusals by code.
 */
import { z } from 'zod';
import { ms } from './common';

const n = z.number().int().nonnegative();

export const securityCounts = z.object({
  authFailures: n,
  throttled: n,
  takeovers: n,
  suspiciousTakeovers: n,
  refusedPublishes: n,
  malformed: n,
  reportsOverLimit: n,
  flags: n,
});

/** fleet null: ids that are not enrolled devices (a guesser's inventions). */
export const securityFleet = securityCounts.extend({ fleet: z.string().nullable(), devices: n });

export const securityDevice = securityCounts.extend({
  deviceId: z.string(),
  fleet: z.string().nullable(),
  lastAt: ms,
  lastFrom: z.string().nullable(),
  lastWhat: z.string(),
});

/** The broker's admission figures; null when devices use an external broker. */
export const admissionStats = z.object({
  authFailures: n,
  throttled: n,
  droppedGone: n,
  refusedBusy: n,
  takeovers: n,
  closedAtAccept: n,
  checksRun: n,
  /** Stored scrypt hashes re-hashed into the fast `$7$` PBKDF2 form after a log-in (issue 17). */
  credentialsRehashed: n.optional(),
  checksInFlight: n,
  checksQueued: n,
  /** The MQTT/TLS listener's admission (gateway/broker/tls-admission.ts); null without a TLS listener. */
  tls: z
    .object({
      inProgress: n,
      waiting: n,
      handshakesStarted: n,
      timedOut: n,
      refusedFull: n,
      skippedGone: n,
      expiredWaiting: n,
    })
    .nullable(),
});

export const security = z.object({
  /** When the counters started (the gateway process start): they are per process, in memory. */
  since: ms,
  totals: securityCounts,
  fleets: z.array(securityFleet),
  devices: z.array(securityDevice),
  devicesAffected: n,
  broker: admissionStats.nullable(),
  telemetry: z.object({ accepted: n, duplicate: n, overLimit: n }).nullable(),
  /** API requests refused, by error code. */
  apiRefused: z.record(z.string(), n),
});
