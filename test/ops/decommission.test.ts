/**
 * Decommission over the real stack: real MQTT devices (mqtt.js) against the gateway's broker, a running rollout,
 * coverage from the counters, the audit log and the metrics scrape.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createToken } from '../gateway/helpers/test-gateway';
import { login } from '../dashboard/helpers';
import { FAST_CONFIG, connectAll, disconnectAll, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { HOST, PIN_B, type SimDevice } from '../rollout-driver/helpers/sim-device';

let f: Fixture;
let devices: SimDevice[];

beforeAll(async () => {
  f = await startFixture(FAST_CONFIG);
  devices = await f.enrolFleet('fleet-d', 4, 'd');
  await connectAll(f.url, devices.slice(0, 3)); // d-003 stays offline: its execution stays QUEUED
});
afterAll(async () => {
  await disconnectAll(devices);
  await f.close();
});

const coverageOf = async (pin: string) =>
  ((await f.call('GET', '/api/fleets/fleet-d/coverage')).body as Array<{ host: string; pin: string; verified: number; total: number }>).find(
    (r) => r.host === HOST && r.pin === pin,
  );

describe('decommission: API, coverage, credential, executions, audit; reversible', () => {
  let rolloutId = '';

  it('an in-flight execution ends as DECOMMISSIONED and the wave is judged on the devices that remain', async () => {
    const p = await f.pinset('fleet-d');
    const created = await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } });
    rolloutId = created.body.id as string;
    await f.call('POST', `/api/rollouts/${rolloutId}/start`, {});
    await vi.waitFor(async () => expect((await f.rollout(rolloutId)).executions.byKind).toMatchObject({ VERIFIED: 3, QUEUED: 1 }), { timeout: 15_000, interval: 50 });
    expect((await f.rollout(rolloutId)).state.kind).toBe('RUNNING'); // 3 of 4 verified: below the success gate
    expect(await coverageOf(PIN_B)).toMatchObject({ verified: 3, total: 4 });

    const r = await f.call('POST', '/api/devices/d-003/decommission', { reason: 'returned to the factory (RMA 1234)' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ deviceId: 'd-003', fleet: 'fleet-d', decommissioned: true, sessionClosed: false });
    await vi.waitFor(async () => {
      const ro = await f.rollout(rolloutId);
      expect(ro.executions.byKind).toMatchObject({ VERIFIED: 3, QUEUED: 0, DECOMMISSIONED: 1 });
      expect(ro.state.kind).toBe('COMPLETED');
    }, { timeout: 10_000, interval: 50 });
    // SPEC §8: the device left the denominator
    expect(await coverageOf(PIN_B)).toMatchObject({ verified: 3, total: 3 });
  });

  it("an online device's session closes at once and its credential is refused; recommission restores both", async () => {
    const d0 = devices[0] as SimDevice;
    const closed = new Promise<void>((resolve) => d0.client!.once('close', () => resolve()));
    const r = await f.call('POST', '/api/devices/d-000/decommission', { reason: 'stolen' });
    expect(r.body).toMatchObject({ decommissioned: true, sessionClosed: true });
    await closed;
    const again = await mqtt
      .connectAsync(f.url, { clientId: 'd-000', username: 'd-000', password: d0.credential, reconnectPeriod: 0 })
      .then((c) => c.endAsync().then(() => null), (e: Error & { code?: number }) => e);
    expect(again?.code).toBe(5); // CONNACK 5 not authorized
    expect(await coverageOf(PIN_B)).toMatchObject({ verified: 2, total: 2 });
    const listed = await f.call('GET', '/api/devices?fleet=fleet-d&state=decommissioned');
    expect(listed.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['d-000', 'd-003']);
    const scrape = await (await fetch(f.gw.metrics!.url)).text();
    expect(scrape).toMatch(/^pingw_device_connects_refused_total\{reason="decommissioned"\} 1$/m);

    const back = await f.call('POST', '/api/devices/d-000/recommission', { reason: 'found again' });
    expect(back.body).toEqual({ deviceId: 'd-000', fleet: 'fleet-d', decommissioned: false, sessionClosed: false });
    await d0.connect(f.url); // the same credential works again
    await vi.waitFor(async () => expect(await coverageOf(PIN_B)).toMatchObject({ verified: 3, total: 3 }), { timeout: 5000, interval: 50 });
  });

  it('is audited with actor and reason', async () => {
    const audit = (await f.call('GET', '/api/audit?limit=100')).body;
    const entries = (audit.items ?? audit) as Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }>;
    const mine = entries.filter((e) => e.action.startsWith('device.') && e.action !== 'device.enrol').map((e) => [e.action, e.target, e.detail['reason']]);
    expect(mine).toEqual(expect.arrayContaining([
      ['device.decommission', 'd-003', 'returned to the factory (RMA 1234)'],
      ['device.decommission', 'd-000', 'stolen'],
      ['device.recommission', 'd-000', 'found again'],
    ]));
  });

  it('the dashboard offers the action to operators on the device page, not to viewers', async () => {
    const op = await login(f.gw.api, await createToken(f.gw, 'op', 'operator'));
    const page = await (await op.get('/devices/d-002')).text();
    expect(page).toContain('action="/devices/d-002/decommission"');
    const res = await op.post('/devices/d-002/decommission', { _csrf: op.csrf, reason: 'antenna broken' });
    expect(res.status).toBe(303);
    expect((await f.call('GET', '/api/devices/d-002')).body.decommissioned).toBe(true);
    const after = await (await op.get('/devices/d-002')).text();
    expect(after).toContain('action="/devices/d-002/recommission"');
    expect((await op.post('/devices/d-002/recommission', { _csrf: op.csrf })).status).toBe(303);
    expect((await f.call('GET', '/api/devices/d-002')).body.decommissioned).toBe(false);
    const noReason = await op.post('/devices/d-002/decommission', { _csrf: op.csrf, reason: '' });
    expect(noReason.status).toBe(409);
    expect(await noReason.text()).toMatch(/say why the device is retired/);
    const viewer = await login(f.gw.api, await createToken(f.gw, 'v2', 'viewer'));
    expect(await (await viewer.get('/devices/d-002')).text()).not.toContain('/decommission"');
    expect((await viewer.post('/devices/d-002/decommission', { _csrf: viewer.csrf, reason: 'x' })).status).toBe(403);
  });

  it('refuses what makes no sense, with a code', async () => {
    const viewer = await createToken(f.gw, 'v', 'viewer');
    expect((await f.call('POST', '/api/devices/nope/decommission', { reason: 'x' })).body.error.code).toBe('E_NOT_FOUND');
    expect((await f.call('POST', '/api/devices/d-003/decommission', { reason: 'x' })).body.error.code).toBe('E_CONFLICT');
    expect((await f.call('POST', '/api/devices/d-001/recommission', {})).body.error.code).toBe('E_CONFLICT');
    expect((await f.call('POST', '/api/devices/d-001/decommission', { reason: ' ' })).body.error.code).toBe('E_BAD_BODY');
    expect((await f.call('POST', '/api/devices/d-001/decommission', { reason: 'x' }, viewer)).body.error.code).toBe('E_FORBIDDEN');
  });
});
