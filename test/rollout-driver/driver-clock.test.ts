/**
 * The driver with its timers off and an injected manual clock: the test moves time and calls tick(). A real
 * device (mqtt.js) that receives the update but never acks: delivery timeout, backoff, the attempt cap, TIMED_OUT,
 * retry-failed — counted per device, never per attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, mqttUrl, type TestDevice } from '../gateway/helpers/device-client';
import { api, enrol, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor } from '../gateway/helpers/wait-for';

let dir: string;
let gw: TestGateway;
let t = Date.now();
const clock = { now: () => t };
let silent: TestDevice;

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir, {}, { clock, rolloutTimers: { autoTick: false } });
  const cred = await enrol(gw, 'mute-1', 'fleet-c');
  silent = await connectDevice(mqttUrl(gw), 'mute-1', cred, { hello: { fleet: 'fleet-c' } });
});
afterAll(async () => {
  await silent.end();
  await gw.stop();
  removeDir(dir);
});

describe('driver timeouts with a manual clock', () => {
  it('delivery timeout → backoff → redelivery, TIMED_OUT at the cap, retry-failed starts afresh', async () => {
    const p = (await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-c') })).body;
    const body = {
      pinsetId: p.id,
      plan: { waves: [{ limit: { percent: 100 } }] },
      gates: { soakMs: 0 },
      delivery: { deliveryTimeoutMs: 60_000, maxAttempts: 3, backoffBaseMs: 10_000, backoffMaxMs: 15_000 },
    };
    const id = (await api(gw, 'POST', '/api/rollouts', { token: gw.adminToken, body })).body.id;
    await api(gw, 'POST', `/api/rollouts/${id}/start`, { token: gw.adminToken, body: {} });
    const get = async () => (await api(gw, 'GET', `/api/rollouts/${id}`, { token: gw.adminToken })).body;
    await waitFor('first delivery', () => silent.received.update.length === 1);
    expect((await get()).executions.byKind.DELIVERED).toBe(1);

    t += 59_999;
    await gw.rollouts.tick(id);
    expect((await get()).executions.byKind.DELIVERED).toBe(1); // 1 ms before the deadline
    t += 1;
    await gw.rollouts.tick(id);
    expect((await get()).executions.byKind.QUEUED).toBe(1); // failed attempt 1: backoff 10 s from the deadline
    t += 9_999;
    await gw.rollouts.tick(id);
    expect(silent.received.update).toHaveLength(1);
    t += 1;
    await gw.rollouts.tick(id);
    await waitFor('second delivery', () => silent.received.update.length === 2);
    t += 60_000 + 15_000; // attempt 2 times out, backoff min(15 s, 20 s)
    await gw.rollouts.tick(id);
    await gw.rollouts.tick(id);
    await waitFor('third delivery', () => silent.received.update.length === 3);
    t += 60_000;
    await gw.rollouts.tick(id);
    let r = await get();
    expect(r.executions).toMatchObject({ total: 1, byKind: { TIMED_OUT: 1 } });
    expect(r.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'wave-failed', failed: 1, size: 1 } });

    // retry-failed: a fresh attempt budget; the device now acks
    await api(gw, 'POST', `/api/rollouts/${id}/retry-failed`, { token: gw.adminToken, body: {} });
    await api(gw, 'POST', `/api/rollouts/${id}/resume`, { token: gw.adminToken, body: {} });
    await waitFor('fourth delivery', () => silent.received.update.length === 4);
    const { encodeAck, fromHex } = await import('../../shared/index');
    await silent.publish('ack', encodeAck({ seq: p.seq, sha256: fromHex(p.sha256), status: 'applied' }));
    await silent.publish('ack', encodeAck({ seq: p.seq, sha256: fromHex(p.sha256), status: 'verified' }));
    await gw.rollouts.tick(id);
    r = await get();
    expect(r.state.kind).toBe('COMPLETED');
    expect(r.executions).toMatchObject({ total: 1, byKind: { VERIFIED: 1 } });
  });
});
