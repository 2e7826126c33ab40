/**
 * Scheduling with the injected clock (timers off; the test moves time and calls tick()): a rollout with startAt
 * and the fleet's maintenance windows (PINGW_MAINTENANCE_WINDOWS) starts by itself inside a window, and its next
 * wave waits, after the soak, for the next window. Real devices (mqtt.js) ack the update.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configFromEnv } from '../../gateway/config/from-env';
import { nextWindowOpening } from '../../gateway/rollout-engine/maintenance-window';
import { api, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { mqttUrl } from '../gateway/helpers/device-client';
import { HOST, PIN_A, PIN_B, SimDevice, keysetFrom } from '../rollout-driver/helpers/sim-device';

const WINDOWS = { timeZone: 'Europe/Berlin', weekly: ['Tue,Thu 02:00-02:30'] };
let t = Date.now();
const clock = { now: () => t };
let dir: string;
let gw: TestGateway;
const devices: SimDevice[] = [];

beforeAll(async () => {
  dir = tempDir();
  const env = configFromEnv({ PINGW_MAINTENANCE_WINDOWS: JSON.stringify({ 'fleet-s': WINDOWS }) });
  gw = await startTestGateway(dir, { maintenanceWindows: env.maintenanceWindows }, { clock, rolloutTimers: { autoTick: false } });
  const keyset = keysetFrom((await api(gw, 'GET', '/api/keysets', { token: gw.adminToken })).body);
  for (const id of ['s-1', 's-2']) {
    const res = await api(gw, 'POST', '/api/devices', { token: gw.adminToken, body: { deviceId: id, fleet: 'fleet-s', deviceClass: 'class-a' } });
    const d = new SimDevice(id, res.body.credential, { fleet: 'fleet-s', keyset });
    await d.connect(mqttUrl(gw));
    devices.push(d);
  }
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.disconnect()));
  await gw.stop();
  removeDir(dir);
});

describe('startAt and per-fleet maintenance windows', () => {
  it('a bad PINGW_MAINTENANCE_WINDOWS stops start-up naming the variable and the problem', () => {
    expect(() => configFromEnv({ PINGW_MAINTENANCE_WINDOWS: '{"f":{"timeZone":"Nowhere/City","weekly":["Mon 01:00-02:00"]}}' })).toThrow(
      /PINGW_MAINTENANCE_WINDOWS: windows.timeZone: "Nowhere\/City" is not an IANA time zone/,
    );
    expect(() => configFromEnv({ PINGW_MAINTENANCE_WINDOWS: 'tue 2-3' })).toThrow(/PINGW_MAINTENANCE_WINDOWS: not JSON/);
  });

  it('starts itself at startAt inside a window; the next wave waits for the next window', async () => {
    const call = (method: string, path: string, body?: unknown) => api(gw, method, path, { token: gw.adminToken, ...(body === undefined ? {} : { body }) });
    const p = (await call('POST', '/api/pinsets', { target: { fleet: 'fleet-s' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] })).body;
    const opens = nextWindowOpening(t + 3_600_000, WINDOWS) as number; // a window at least an hour away
    const startAt = opens - 20 * 60_000; // before it opens: the window decides
    const created = await call('POST', '/api/rollouts', {
      pinsetId: p.id,
      plan: { waves: [{ limit: { count: 1 } }, { limit: { percent: 100 } }] },
      gates: { soakMs: 35 * 60_000 },
      schedule: { startAt: new Date(startAt).toISOString() },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body.schedule).toEqual({ startAt, windows: WINDOWS }); // the fleet's windows, copied into the rollout
    const get = async () => (await call('GET', `/api/rollouts/${id}`)).body;

    // by hand, outside a window: refused, saying when the window opens
    const early = await call('POST', `/api/rollouts/${id}/start`, {});
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain(`it opens at ${new Date(nextWindowOpening(t, WINDOWS) as number).toISOString()}`);

    t = startAt + 60_000; // startAt has passed, the window is still closed
    await gw.rollouts.tick();
    expect((await get()).state.kind).toBe('DRAFT');

    t = opens; // the window opens: the scheduler starts wave 1
    await gw.rollouts.tick();
    expect((await get()).state).toMatchObject({ kind: 'RUNNING', wave: 0 });
    await vi.waitFor(async () => {
      await gw.rollouts.tick(id);
      expect((await get()).executions.byKind.VERIFIED).toBe(1);
    }, { timeout: 10_000, interval: 50 });
    await gw.rollouts.tick(id); // the success gate holds: the soak starts now
    const soakStart = t;

    t = soakStart + 35 * 60_000 + 1; // soak done at 02:35, after the 30-minute window closed
    await gw.rollouts.tick(id);
    let r = await get();
    expect(r.state).toMatchObject({ kind: 'RUNNING', wave: 0 });
    expect(r.gate.decision).toMatchObject({ kind: 'hold', why: expect.stringMatching(/^next wave waits: outside the maintenance window/) });

    t = nextWindowOpening(t, WINDOWS) as number; // two days later: Thursday's (or Tuesday's) window
    await gw.rollouts.tick(id);
    r = await get();
    expect(r.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
    expect(r.waves[1].startedAt).toBe(t);

    const audit = (await call('GET', '/api/audit?limit=50')).body;
    const entries = (audit.items ?? audit) as Array<{ actor: string; action: string; target: string }>;
    expect(entries.find((e) => e.action === 'rollout.start' && e.target === id)?.actor).toBe('scheduler');
  });
});
