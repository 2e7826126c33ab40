/**
 * The dashboard's static assets (stylesheet, live-update script, icon), read once at start-up from
 * dashboard/assets/ and served by the dashboard itself: no CDN, nothing fetched from elsewhere.
 */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

interface Asset {
  readonly body: string;
  readonly type: string;
}

const load = (name: string, type: string): Asset => ({
  body: readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8'),
  type,
});

export function assetRoutes(): Hono {
  const assets = new Map<string, Asset>([
    ['dashboard.css', load('dashboard.css', 'text/css; charset=utf-8')],
    ['live.js', load('live.js', 'text/javascript; charset=utf-8')],
    ['favicon.svg', load('favicon.svg', 'image/svg+xml')],
  ]);
  const app = new Hono();
  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (asset === undefined) return c.text('not found', 404);
    c.header('content-type', asset.type);
    c.header('cache-control', 'no-cache');
    c.header('x-content-type-options', 'nosniff');
    return c.body(asset.body);
  });
  return app;
}
