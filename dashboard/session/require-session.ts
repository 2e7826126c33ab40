import type { MiddlewareHandler } from 'hono';
import type { ApiClient, GatewayApi } from '../api/api-client';
import type { DashboardEnv } from './env';
import { currentSession, type SessionStore } from './session-store';

/**
 * Every page but /login and /assets needs a session. Without one, GET pages redirect to /login?next=…; POSTs and
 * the event stream get 401.
 */
export function requireSession(store: SessionStore, gateway: GatewayApi, secure: boolean): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const session = currentSession(c, store, secure);
    if (session === undefined) {
      if (c.req.method !== 'GET' || c.req.path === '/events') return c.text('log-in required', 401);
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set('session', session);
    const api: ApiClient = gateway.forToken(session.token);
    c.set('api', api);
    await next();
  };
}
