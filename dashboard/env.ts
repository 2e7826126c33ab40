/** Shared Hono environment of the dashboard's routes and the clock type it is given. */
import type { ApiClient } from './api-client';
import type { Session } from './session';

/** Time source (same shape as the gateway's Clock, declared here so the dashboard imports nothing of gateway/). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface DashboardEnv {
  Variables: {
    session: Session;
    api: ApiClient;
  };
}
