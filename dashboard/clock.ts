/** Time source (same shape as the gateway's Clock, declared here so the dashboard imports nothing of gateway/). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
