/**
 * PINGW_DATABASE_READ_URL on a real streaming replica (pg_basebackup -R -X stream): lists read there and may lag;
 * the rotation gate reads the primary. The replica's replay is paused to make the lag certain, not timed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { startPostgres, type PgServer } from '../support/postgres';

const PIN = 'sha256/' + Buffer.alloc(32, 9).toString('base64');

describe('read replica', () => {
  let server: PgServer;
  let gw: TestGateway;
  const dir = tempDir();
  beforeAll(async () => {
    server = await startPostgres({ replica: true });
    const name = await server.createDatabase();
    await server.replica?.waitForReplay();
    gw = await startTestGateway(dir, { database: { url: server.url(name), readUrl: server.replica?.url(name) ?? null } });
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
    await server?.stop();
    removeDir(dir);
  });

  it('lists come from the replica (lagging while its replay is paused); the rotation gate answers from the primary', async () => {
    const replicaPort = server.replica?.port as number;
    await enrol(gw, 'before-pause', 'fleet-r');
    await vi.waitFor(async () => expect((await api(gw, 'GET', '/api/devices?fleet=fleet-r', { token: gw.adminToken })).body.items).toHaveLength(1));

    await server.psql('postgres', 'select pg_wal_replay_pause()', replicaPort);
    await enrol(gw, 'during-pause', 'fleet-r');
    // the primary knows both devices: the gate counts them (two devices that never said hello are at risk)
    const ready = await api(gw, 'GET', `/api/fleets/fleet-r/rotation-readiness?host=api.example.com&pin=${encodeURIComponent(PIN)}&target=95`, { token: gw.adminToken });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ total: 2, atRisk: 2, ready: false });
    expect(ready.body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['before-pause', 'during-pause']);
    // the list still shows what the replica has replayed
    const lagging = await api(gw, 'GET', '/api/devices?fleet=fleet-r', { token: gw.adminToken });
    expect(lagging.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['before-pause']);
    // a single device is read from the primary
    expect((await api(gw, 'GET', '/api/devices/during-pause', { token: gw.adminToken })).status).toBe(200);

    await server.psql('postgres', 'select pg_wal_replay_resume()', replicaPort);
    await vi.waitFor(async () =>
      expect((await api(gw, 'GET', '/api/devices?fleet=fleet-r', { token: gw.adminToken })).body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([
        'before-pause',
        'during-pause',
      ]),
    );
  });
});
