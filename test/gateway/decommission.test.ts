import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createToken, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';

describe('POST /api/devices/:id/decommission', () => {
  let dir: string;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = tempDir();
    gw = await startTestGateway(dir);
    await enrol(gw, 'dev-d', 'fleet-d');
  });
  afterAll(async () => {
    await gw.stop();
    removeDir(dir);
  });

  it('needs the operator role and a known device', async () => {
    const viewer = await createToken(gw, 'v', 'viewer');
    expect((await api(gw, 'POST', '/api/devices/dev-d/decommission', { token: viewer })).status).toBe(403);
    const missing = await api(gw, 'POST', '/api/devices/nobody/decommission', { token: gw.adminToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('E_NOT_FOUND');
  });

  it('decommissions once (audit-logged, out of the fleet count) and answers the same when repeated', async () => {
    const fleetD = async () => ((await api(gw, 'GET', '/api/fleets', { token: gw.adminToken })).body as { fleet: string; devices: number }[]).find((f) => f.fleet === 'fleet-d');
    expect((await fleetD())?.devices).toBe(1);
    const first = await api(gw, 'POST', '/api/devices/dev-d/decommission', { token: gw.adminToken });
    expect(first).toMatchObject({ status: 200, body: { deviceId: 'dev-d', decommissioned: true } });
    const again = await api(gw, 'POST', '/api/devices/dev-d/decommission', { token: gw.adminToken });
    expect(again).toMatchObject({ status: 200, body: { deviceId: 'dev-d', decommissioned: true } });
    expect((await api(gw, 'GET', '/api/devices/dev-d', { token: gw.adminToken })).body.decommissioned).toBe(true);
    const audit = (await api(gw, 'GET', '/api/audit?limit=50', { token: gw.adminToken })).body;
    const entries = (audit.items ?? audit).filter((e: { action: string }) => e.action === 'device.decommission');
    expect(entries).toHaveLength(1);
    expect(await fleetD()).toBeUndefined(); // its only device is decommissioned: no fleet left to count
  });
});
