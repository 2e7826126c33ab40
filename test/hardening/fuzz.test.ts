/**
 * Issue 17: a seed-pinned fast-check run, kept in the suite, over every MQTT payload handler and every API route
 * with a body (./fuzz-targets.ts); `npm run fuzz` runs the same targets with ≥ 100,000 cases each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
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

  it('every API body schema: never a 5xx, a refused body stores nothing', async () => {
    const routes = await apiBodyRoutes(gw);
    expect(routes.map((r) => r.path)).toEqual(expect.arrayContaining(['/api/devices', '/api/pinsets', '/api/rollouts', '/api/keysets/rotate', '/api/tokens']));
    for (const route of routes) {
      const r = await fuzzApiRoute(gw, route, 60, SEED);
      expect(r.failures, route.path).toEqual([]);
    }
  });
});
