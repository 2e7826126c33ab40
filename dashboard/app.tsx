/**
 * The operator dashboard: a Hono app, server-rendered with hono/jsx, that talks to the gateway only through its
 * JSON API (docs/api.md) with the logged-in operator's token. Mounted by the gateway at `/` (the API lives at
 * `/api`; nothing here ever handles /api paths, so `app.route('/', dashboard)` cannot shadow the API).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import { ApiError, type GatewayApi } from './api/api-client';
import { assetRoutes } from './assets';
import { originCheck, requireCsrfToken } from './session/csrf';
import { systemClock, type Clock } from './clock';
import type { DashboardEnv } from './session/env';
import { eventsHandler } from './routes/events';
import { pageRoutes } from './routes/page-routes';
import { deviceRoutes } from './routes/device-routes';
import { BarePage, ErrorPanel } from './pages/layout';
import { rolloutRoutes } from './routes/rollout-routes';
import { rotationRoutes } from './routes/rotation-routes';
import { publishRoutes } from './routes/publish-routes';
import { lifecycleRoutes } from './routes/lifecycle-routes';
import { securityRoutes } from './routes/security-routes';
import { authRoutes } from './routes/login-routes';
import { requireSession } from './session/require-session';
import { formBodyLimit } from './session/form-body';
import { clearSessionCookie, currentSession, SessionStore, DEFAULT_SESSION_LIMITS, type SessionLimits } from './session/session-store';

export interface DashboardOptions {
  readonly api: GatewayApi;
  /** Secure (and `__Host-`) cookies: true whenever the dashboard is reached over TLS. */
  readonly secureCookies: boolean;
  readonly clock?: Clock;
  /** Server-side polling period for live updates when /api/events cannot be had, e.g. behind a proxy (default 1000 ms). */
  readonly pollIntervalMs?: number;
  readonly heartbeatMs?: number;
  readonly sessionLimits?: SessionLimits;
  /** Where an unexpected error while building a page is logged (the gateway passes its own logger). */
  readonly logger?: DashboardLogger;
  /** Told of each dashboard request refused with 400, 403 or 413 (a form too large or unreadable, CSRF), issue 17. */
  readonly onRefused?: (status: number) => void;
}

/** The part of a logger the dashboard needs (the gateway's Logger has this shape; declared here, not imported). */
export interface DashboardLogger {
  error(message: string, context?: Record<string, unknown>): void;
  /** A client that went away mid-request (not an error of the gateway). */
  info?(message: string, context?: Record<string, unknown>): void;
}

const stderrLogger: DashboardLogger = {
  error: (message, context) => process.stderr.write(`${JSON.stringify({ level: 'error', message, context })}\n`),
};

/** Content-Security-Policy: only this origin's own script and stylesheet; no inline script or style at all. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const isApiPath = (path: string) => path === '/api' || path.startsWith('/api/');
const REFUSED = new Set([400, 403, 413]);

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  if (isApiPath(c.req.path)) return;
  c.header('content-security-policy', CSP);
  c.header('x-content-type-options', 'nosniff');
  c.header('x-frame-options', 'DENY');
  c.header('referrer-policy', 'no-referrer');
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
};

export function createDashboard(options: DashboardOptions): Hono<DashboardEnv> {
  const clock = options.clock ?? systemClock;
  const secure = options.secureCookies;
  const store = new SessionStore(clock, options.sessionLimits ?? DEFAULT_SESSION_LIMITS);
  const deps = {
    clock,
    secure,
    origin: originCheck(),
    guard: every(requireSession(store, options.api, secure), requireCsrfToken()) as MiddlewareHandler<DashboardEnv>,
  };

  const app = new Hono<DashboardEnv>();
  const onRefused = options.onRefused;
  if (onRefused !== undefined) {
    // outermost, so it sees the final answer, the error pages of onError included (issue 17: counted on /metrics)
    app.use('*', async (c, next) => {
      await next();
      if (!isApiPath(c.req.path) && REFUSED.has(c.res.status)) onRefused(c.res.status);
    });
  }
  app.use('*', securityHeaders);
  app.use('*', formBodyLimit(isApiPath)); // before any route reads a body (issue 17)
  app.route('/', assetRoutes());
  app.route('/', authRoutes({ store, gateway: options.api, secure }));
  app.route('/', pageRoutes(deps));
  app.route('/', deviceRoutes(deps));
  app.route('/', publishRoutes(deps)); // before rolloutRoutes: /rollouts/new is not a rollout id
  app.route('/', rolloutRoutes(deps));
  app.route('/', rotationRoutes(deps));
  app.route('/', lifecycleRoutes(deps));
  app.route('/', securityRoutes(deps));
  app.get(
    '/events',
    deps.guard,
    eventsHandler({ pollIntervalMs: options.pollIntervalMs ?? 1000, heartbeatMs: options.heartbeatMs ?? 15_000 }),
  );

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    const page = (title: string, message: string, status: 400 | 403 | 404 | 500 | 502) =>
      c.html(
        <BarePage title={title}>
          <ErrorPanel title={title} message={message} status={status} />
        </BarePage>,
        status,
      );
    if (err instanceof ApiError) {
      if (err.status === 401) {
        // The gateway no longer accepts the session's token (revoked): drop the session, log in again.
        const s = currentSession(c, store, secure);
        if (s !== undefined) store.delete(s.id);
        clearSessionCookie(c, secure);
        return c.req.method === 'GET' ? c.redirect('/login', 303) : c.text('log-in required', 401);
      }
      if (err.status === 403) return page('Not allowed', `The gateway refused this for your role: ${err.message}`, 403);
      if (err.status === 404) return page('Not found', err.message || 'No such item.', 404);
      // the gateway refused the request's own values (e.g. a crafted ?host= on /rotation): the browser's mistake,
      // 400 with the gateway's code — never a 502 that blames the gateway (issue 17)
      if (err.status === 400) return page('Bad request', `${err.code}: ${err.message}`, 400);
      // an answer outside the API contract is the gateway's bug (the schemas are shared): logged, never guessed at
      if (err.code === 'E_CONTRACT') (options.logger ?? stderrLogger).error('gateway answer outside the API contract', { method: c.req.method, path: c.req.path, error: err.message });
      return page('Gateway API error', `${err.code}: ${err.message}`, 502);
    }
    if (c.req.raw.signal.aborted) {
      // the browser went away mid-request: nothing to answer, and not an error of the gateway (issue 17)
      (options.logger ?? stderrLogger).info?.('dashboard request aborted by the client', { method: c.req.method, path: c.req.path });
      return c.text('client closed the request', 400);
    }
    (options.logger ?? stderrLogger).error('dashboard page failed', {
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return page('Dashboard error', 'Something went wrong while building this page.', 500);
  });

  return app;
}
