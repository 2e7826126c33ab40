/**
 * Webhooks out against real HTTP receivers on loopback: signed deliveries (HMAC-SHA256 with timestamp), retries
 * with backoff, dead letters in the API, a receiver that never answers while devices' acks are still ingested.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyWebhook } from '../../gateway/webhooks/webhook-signature';
import { createToken } from '../gateway/helpers/test-gateway';
import { connectAll, disconnectAll, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { HOST, PIN_A, PIN_B, PIN_C, type SimDevice } from '../rollout-driver/helpers/sim-device';
import { WebhookReceiver } from './webhook-receiver';

let f: Fixture;
let devices: SimDevice[];
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  f = await startFixture({
    rollouts: { tickMs: 50, ratePerSecond: 2000, rateBurst: 500 },
    ingest: { flushMs: 2, maxRows: 1000 },
    webhooks: { maxAttempts: 3, backoffMs: 50, backoffMaxMs: 200, timeoutMs: 300 },
  });
  devices = await f.enrolFleet('fleet-w', 4, 'w');
  await connectAll(f.url, devices);
});
afterAll(async () => {
  await disconnectAll(devices);
  await f.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start();
  receivers.push(r);
  return r;
}

async function register(r: WebhookReceiver, events: string[], extra: Record<string, unknown> = {}): Promise<number> {
  const res = await f.call('POST', '/api/webhooks', { url: r.url, events, ...extra });
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  r.secret = res.body.secret as string;
  return res.body.id as number;
}

describe('webhooks out', () => {
  it('a rollout that completes is announced, signed with HMAC-SHA256 over timestamp and body', async () => {
    const ok = await receiver();
    ok.failFirst = 1; // the first attempt fails: retried with backoff, same delivery id
    await register(ok, ['rollout.completed', 'rollout.paused']);
    const p = await f.pinset('fleet-w');
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } })).body.id;
    await f.call('POST', `/api/rollouts/${id}/start`, {});
    await vi.waitFor(() => expect(ok.received.filter((x) => x.type === 'rollout.completed')).toHaveLength(2), { timeout: 15_000, interval: 50 });
    const [first, second] = ok.received.filter((x) => x.type === 'rollout.completed') as [(typeof ok.received)[0], (typeof ok.received)[0]];
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    expect(second.deliveryId).toBe(first.deliveryId);
    expect(second.check).toEqual({ ok: true, t: expect.any(Number) });
    expect(second.body).toMatchObject({ id: second.deliveryId, type: 'rollout.completed', data: { rolloutId: id, fleet: 'fleet-w', state: 'COMPLETED', cause: 'allWavesDone' } });
    // the receiver's checks refuse a tampered body, a wrong secret and a replay outside the window
    expect(verifyWebhook(ok.secret, second.signature, second.raw.replace('COMPLETED', 'ABORTED'), Math.floor(Date.now() / 1000))).toMatchObject({ ok: false, code: 'E_SIG_MISMATCH' });
    expect(verifyWebhook('whsec_other', second.signature, second.raw, Math.floor(Date.now() / 1000))).toMatchObject({ ok: false, code: 'E_SIG_MISMATCH' });
    expect(verifyWebhook(ok.secret, second.signature, second.raw, Math.floor(Date.now() / 1000) + 301)).toMatchObject({ ok: false, code: 'E_SIG_STALE' });
    expect(ok.received.some((x) => x.type === 'rollout.paused')).toBe(false); // not subscribed events only
  });

  it('a receiver that always fails ends as a dead letter in the API, which an operator can redeliver', async () => {
    const bad = await receiver();
    bad.mode = 'fail';
    const hook = await register(bad, ['ping']);
    expect((await f.call('POST', `/api/webhooks/${hook}/ping`, {})).body).toEqual({ queued: 1 });
    let letters: any[] = [];
    await vi.waitFor(async () => {
      letters = (await f.call('GET', '/api/webhooks/dead-letters')).body.filter((d: { webhookId: number }) => d.webhookId === hook);
      expect(letters).toHaveLength(1);
    }, { timeout: 10_000, interval: 50 });
    expect(letters[0]).toMatchObject({ eventType: 'ping', attempts: 3, lastError: 'HTTP 500', url: bad.url, payload: { type: 'ping', data: { webhookId: hook } } });
    expect(bad.received.map((x) => x.attempt)).toEqual([1, 2, 3]);

    bad.mode = 'ok';
    const again = await f.call('POST', `/api/webhooks/dead-letters/${letters[0].id}/redeliver`, {});
    expect(again.status).toBe(202);
    await vi.waitFor(() => expect(bad.received).toHaveLength(4), { timeout: 5000, interval: 50 });
    expect(bad.received[3]?.deliveryId).toBe(letters[0].deliveryId);
    expect(bad.received[3]?.check.ok).toBe(true);
    expect((await f.call('GET', '/api/webhooks/dead-letters')).body.some((d: { id: number }) => d.id === letters[0].id)).toBe(false);
  });

  it('a receiver that never answers does not hold up ingestion: acks are ingested and the gate trips meanwhile', async () => {
    const hang = await receiver();
    hang.mode = 'hang';
    const hook = await register(hang, ['rollout.completed', 'rollout.gate-tripped', 'rollout.paused']);
    // every device rejects this set (its host serves a key the set does not pin): the error gate trips
    for (const d of devices) d.serve(PIN_C);
    const p = await f.pinset('fleet-w', [PIN_B, 'sha256/' + Buffer.alloc(32, 9).toString('base64')]);
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } })).body.id;
    await f.call('POST', `/api/rollouts/${id}/start`, {});
    await vi.waitFor(async () => expect((await f.rollout(id)).state.kind).toBe('PAUSED'), { timeout: 15_000, interval: 50 });
    expect((await f.rollout(id)).executions.byKind.REJECTED).toBe(4); // all four acks ingested while the receiver hangs
    await vi.waitFor(() => expect(hang.received.map((x) => x.type).sort()).toEqual(expect.arrayContaining(['rollout.gate-tripped', 'rollout.paused'])), { timeout: 5000, interval: 50 });
    const tripped = hang.received.find((x) => x.type === 'rollout.gate-tripped');
    expect(tripped?.body.data).toMatchObject({ rolloutId: id, gate: expect.stringMatching(/^(error|wave-failed)$/) });
    await vi.waitFor(async () => {
      const letters = (await f.call('GET', '/api/webhooks/dead-letters')).body.filter((d: { webhookId: number }) => d.webhookId === hook);
      expect(letters.length).toBeGreaterThanOrEqual(2);
      expect(letters[0].lastError).toBe('no answer within 300 ms');
    }, { timeout: 10_000, interval: 100 });
    await f.call('POST', `/api/rollouts/${id}/abort`, { reason: 'test' });
    for (const d of devices) d.serve(PIN_A);
  });

  it('rotation.ready fires when a watched rotation gate turns ready', async () => {
    const r = await receiver();
    const target = 100;
    await register(r, ['rotation.ready'], { rotations: [{ fleet: 'fleet-w', host: HOST, pin: PIN_C, target }] });
    const p = await f.pinset('fleet-w', [PIN_A, PIN_C]); // the devices' host serves PIN_A: no E_WOULD_BRICK
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } })).body.id;
    await f.call('POST', `/api/rollouts/${id}/start`, {});
    await vi.waitFor(() => expect(r.received.filter((x) => x.type === 'rotation.ready')).toHaveLength(1), { timeout: 15_000, interval: 50 });
    expect(r.received[0]?.body.data).toMatchObject({ fleet: 'fleet-w', host: HOST, pin: PIN_C, target, coverage: 100, verified: 4, total: 4 });
    expect(r.received[0]?.check.ok).toBe(true);
  });

  it('registration is for admins, refuses plain http to other hosts and unknown events, with a code', async () => {
    const operator = await createToken(f.gw, 'op-w', 'operator');
    const r = await receiver();
    expect((await f.call('POST', '/api/webhooks', { url: r.url, events: ['ping'] }, operator)).body.error.code).toBe('E_FORBIDDEN');
    const http = await f.call('POST', '/api/webhooks', { url: 'http://example.com/hook', events: ['ping'] });
    expect(http.body.error).toMatchObject({ code: 'E_BAD_BODY', message: expect.stringMatching(/https:\/\//) });
    expect((await f.call('POST', '/api/webhooks', { url: r.url, events: ['rollout.exploded'] })).body.error.code).toBe('E_BAD_BODY');
    const noWatch = await f.call('POST', '/api/webhooks', { url: r.url, events: ['rotation.ready'] });
    expect(noWatch.body.error.message).toMatch(/needs at least one entry in rotations/);
    const list = (await f.call('GET', '/api/webhooks', undefined, operator)).body as Array<Record<string, unknown>>;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((w) => !('secret' in w))).toBe(true);
    const id = list[0]!['id'] as number;
    expect((await f.call('DELETE', `/api/webhooks/${id}`)).body).toEqual({ id, deleted: true });
    expect((await f.call('DELETE', `/api/webhooks/${id}`)).body.error.code).toBe('E_NOT_FOUND');
  });
});
