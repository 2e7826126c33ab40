import { z } from 'zod';
import { Hono } from 'hono';
import type { ApiDeps } from './api-deps';
import { DomainError, GatewayError } from './gateway-error';
import { openApiDocument } from './openapi';
import { isAbort, RouteTable, type ApiEnv } from './route-table';
import { auditRoutes } from './routes/audit-routes';
import { coverageRoutes } from './routes/coverage-routes';
import { eventRoutes } from './routes/event-routes';
import { rolloutRoutes } from './routes/rollout-routes';
import { telemetryRoutes } from './routes/telemetry-routes';
import { deviceRoutes } from './routes/device-routes';
import { decommissionRoutes } from './routes/decommission-routes';
import { webhookRoutes } from './routes/webhook-routes';
import { fleetRoutes } from './routes/fleet-routes';
import { keysetRoutes } from './routes/keyset-routes';
import { pinsetRoutes } from './routes/pinset-routes';
import { tokenRoutes } from './routes/token-routes';
import { killSwitchRoutes } from './routes/kill-switch-routes';
import { findingsRoutes } from './routes/findings-routes';
import { ctWatchRoutes } from './routes/ct-watch-routes';
import { rotationPlanRoutes } from './routes/rotation-plan-routes';
import { admissionRoutes } from './routes/admission-routes';
import { securityRoutes } from './routes/security-routes';
import { apiLatency } from '../metrics/metrics-endpoint';

const API_VERSION = '1.0.0';

/** The publishing API (docs/api.md). Test it with `app.request()`; start.ts serves it with @hono/node-server. */
export function createApi(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const routes = new RouteTable(app, deps.tokens, deps.clock, deps.audit);
  if (deps.metrics !== undefined) app.use('/api/*', apiLatency(deps.metrics));

  tokenRoutes(routes, deps);
  deviceRoutes(routes, deps);
  securityRoutes(routes, deps);
  decommissionRoutes(routes, deps);
  webhookRoutes(routes, deps);
  fleetRoutes(routes, deps);
  pinsetRoutes(routes, deps);
  keysetRoutes(routes, deps);
  auditRoutes(routes, deps);
  rolloutRoutes(routes, deps);
  coverageRoutes(routes, deps);
  telemetryRoutes(routes, deps);
  eventRoutes(routes, deps);
  killSwitchRoutes(routes, deps);
  findingsRoutes(routes, deps);
  ctWatchRoutes(routes, deps);
  rotationPlanRoutes(routes, deps);
  admissionRoutes(routes, deps);
  routes.add({ method: 'get', path: '/api/openapi.json', role: null, summary: 'This OpenAPI 3.1 document', response: z.record(z.string(), z.unknown()) }, (c) =>
    c.json(openApiDocument(routes.specs, API_VERSION)),
  );

  app.notFound((c) => c.json({ error: { code: 'E_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => {
    const known = err instanceof GatewayError ? err : err instanceof DomainError ? GatewayError.fromDomain(err) : null;
    if (known !== null) {
      deps.security?.metrics.refusedRequest(known.code, known.status); // issue 17: refusals counted on /metrics
      if (known.code === 'E_ABORTED') deps.logger.info('API request aborted by the client', { method: c.req.method, path: c.req.path });
      return c.json({ error: { code: known.code, message: known.message, ...(known.details ?? {}) } }, known.status);
    }
    if (isAbort(c, err)) {
      // a client that hangs up mid-request is not an error of the gateway (issue 17): one INFO line, no stack
      deps.logger.info('API request aborted by the client', { method: c.req.method, path: c.req.path });
      deps.security?.metrics.refusedRequest('E_ABORTED', 400);
      return c.json({ error: { code: 'E_ABORTED', message: 'the client closed the request' } }, 400);
    }
    deps.logger.error('API request failed', { method: c.req.method, path: c.req.path, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return c.json({ error: { code: 'E_INTERNAL', message: 'internal error' } }, 500);
  });
  return app;
}
