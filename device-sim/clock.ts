/**
 * The device's clock, injected everywhere so that tests drive time (fail-open, expiry, skew) without sleeping.
 * `now()` is milliseconds since the epoch; SPEC §2/§4 times are unix seconds, see `unixSeconds`.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** SPEC §2 times (issuedAt, notAfter, failOpenAfter) are unix seconds. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}

/** A clock shifted by a fixed skew (fault injection: a device whose RTC drifted). */
export function skewedClock(base: Clock, skewSeconds: number): Clock {
  if (skewSeconds === 0) return base;
  return { now: () => base.now() + skewSeconds * 1000 };
}

/** A clock a test sets by hand. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
