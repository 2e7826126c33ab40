/** Telemetry buckets are one minute of gateway receive time; queries aggregate them to any multiple. */
export const TELEMETRY_BUCKET_MS = 60_000;

/** The bucket a receive time falls in (unix ms, a multiple of a minute). */
export function telemetryBucket(at: number): number {
  return at - (at % TELEMETRY_BUCKET_MS);
}
