/** What the route modules share: the clock, the log-in guard chain, and the View of the current request. */
import type { Context, MiddlewareHandler } from 'hono';
import type { Clock } from '../clock';
import type { DashboardEnv } from '../session/env';
import { viewOf, type View } from '../pages/layout';

export interface RouteDeps {
  readonly clock: Clock;
  /** requireSession, then the CSRF token check on POST. */
  readonly guard: MiddlewareHandler<DashboardEnv>;
  /** hono's origin check (POST only). */
  readonly origin: MiddlewareHandler;
  /** Secure cookies (the dashboard is reached over TLS). */
  readonly secure: boolean;
}

export function viewFor(c: Context<DashboardEnv>, clock: Clock): View {
  const s = c.get('session');
  return viewOf(s.identity, s.csrf, clock.now());
}

/** Settle a promise into a value or a fallback (a side panel must not take the whole page down). */
export async function orElse<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch {
    return fallback;
  }
}
