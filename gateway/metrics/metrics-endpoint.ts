import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { GatewayMetrics } from './gateway-metrics';

/** GET /metrics on the API's own listener (the default): no token, as Prometheus scrapes it. */
export function metricsRoute(metrics: GatewayMetrics) {
  return async (c: Context) => {
    const { contentType, body } = await metrics.scrape();
    return c.body(body, 200, { 'content-type': contentType });
  };
}

/** Times every API request into pingw_api_request_duration_seconds, labelled by the route pattern (bounded). */
export function apiLatency(metrics: GatewayMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // the declared pattern of the handler that answered (middleware and mounts are registered for ALL methods)
      const handler = matchedRoutes(c).filter((r) => r.method !== 'ALL').at(-1);
      metrics.apiLatency.observe(
        { method: c.req.method, route: handler?.path ?? 'unmatched', status: String(c.res.status) },
        (performance.now() - started) / 1000,
      );
    }
  };
}

/**
 * /metrics on a listener of its own (PINGW_METRICS_HOST / PINGW_METRICS_PORT), e.g. bound to an interface only
 * the monitoring network reaches. Anything but GET /metrics answers 404.
 */
export async function listenMetrics(metrics: GatewayMetrics, spec: { host: string; port: number }): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${String(err)}\n`),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(spec.port, spec.host, () => ok());
  });
  return { server, address: server.address() as AddressInfo };
}
