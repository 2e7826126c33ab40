/**
 * Issue 17: a seed-pinned fast-check run, kept in the suite, over every MQTT payload handler and every API route
 * with a body (./fuzz-targets.ts); `npm run fuzz` runs the same targets with ≥ 100,000 cases each.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { apiBodyRoutes, fuzzApiRoute, fuzzMqtt } from './fuzz-targets';

const SEED = 17;
let dir: string;
let gw: TestGateway;

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir);
});
afterAll(async () => {
  await gw.stop();
  removeDir(dir);
});

describe('fuzzing', () => {
  for (const kind of ['hello', 'ack', 'report'] as const) {
    it(`MQTT ${kind} payloads: every one acknowledged, connection kept, nothing thrown or logged as an error`, async () => {
      const r = await fuzzMqtt(gw, kind, 400, SEED);
      expect(r.failures).toEqual([]);
    });
  }

  it('the fuzz targets are every body the API takes: a new route cannot be left out', async () => {
    const targets = new Set((await apiBodyRoutes(gw)).map((r) => `${r.method} ${r.documented}`));
    const doc = (await api(gw, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const withBody = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => op.requestBody !== undefined).map(([m]) => `${m.toUpperCase()} ${path}`));
    // every operation the document gives a body schema is a target, whatever its method
    expect(withBody.filter((op) => !targets.has(op))).toEqual([]);
    expect(targets.size).toBe(withBody.length);
    // every route the app serves under /api that may carry a body is in the document (declared through the route
    // table, which validates its body with the documented schema): a route added beside the table would be missed
    const served = gw.api.routes
      .filter((r) => r.path.startsWith('/api/') && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method))
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThan(20);
    expect([...new Set(served)].filter((op) => !documented.has(op))).toEqual([]);
    // and only the route table reads a request body (so no handler parses one its schema does not declare)
    const readers = sourceFiles('gateway').filter((f) => !f.endsWith('route-table.ts') && /\bc\.req\.(json|text|parseBody|arrayBuffer|formData|blob)\(|\.req\.raw\.body\b/.test(readFileSync(f, 'utf8')));
    expect(readers).toEqual([]);
  });

  it('every API body schema: never a 5xx, a refused body stores nothing', async () => {
    const routes = await apiBodyRoutes(gw);
    expect(routes.map((r) => r.path)).toEqual(expect.arrayContaining(['/api/devices', '/api/pinsets', '/api/rollouts', '/api/keysets/rotate', '/api/tokens']));
    for (const route of routes) {
      const r = await fuzzApiRoute(gw, route, 60, SEED);
      expect(r.failures, route.path).toEqual([]);
    }
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}
