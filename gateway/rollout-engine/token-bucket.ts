/**
 * Delivery rate limit (SPEC §7 rollouts must not flood the broker): a token bucket whose state lives in the
 * rollout snapshot (plain JSON), refilled from the injected clock. At most `perSecond` deliveries per second
 * on average, bursts up to `burst`.
 */

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 50 };

export interface TokenBucket {
  readonly tokens: number;
  readonly updatedAt: number;
}

/** A full bucket at `now`. */
export function fullBucket(rate: RateLimit, now: number): TokenBucket {
  return { tokens: rate.burst, updatedAt: now };
}

/** Refill up to `now`. A clock that went backwards refills nothing (and does not move updatedAt back). */
export function refill(bucket: TokenBucket, rate: RateLimit, now: number): TokenBucket {
  if (now <= bucket.updatedAt) return bucket;
  const tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.updatedAt) * rate.perSecond) / 1000);
  return { tokens, updatedAt: now };
}

/** Whole tokens available now (after refill). */
export function available(bucket: TokenBucket): number {
  return Math.floor(bucket.tokens + 1e-9);
}

/** Take `n` tokens (caller checked `available`). */
export function take(bucket: TokenBucket, n: number): TokenBucket {
  return { tokens: Math.max(0, bucket.tokens - n), updatedAt: bucket.updatedAt };
}
