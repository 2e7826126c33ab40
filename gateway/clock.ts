/** Time source injected everywhere time matters, so tests can move time without sleeping. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Unix seconds, the unit of the pin-set document's time fields (SPEC §2). */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
