/**
 * Issue 13, webhook deliveries kept in the registry's outbox, on the embedded default (a real SQLite file) and a
 * real HTTP receiver: a delivery waiting for its retry when the gateway stops is neither lost nor turned into a dead
 * letter; the next start sends it, with the same delivery id and body; /metrics shows what waits.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { api, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { WebhookReceiver } from './webhook-receiver';

const dir = tempDir('pingw-outbox-');
let gw: TestGateway | null = null;
let receiver: WebhookReceiver | null = null;
// the retry is due 3 s after the first attempt: the gateway is stopped before that
const webhooks = { maxAttempts: 3, backoffMs: 3000, backoffMaxMs: 3000, timeoutMs: 1000 };

afterAll(async () => {
  await gw?.stop();
  await receiver?.close();
  removeDir(dir);
});

describe('webhook outbox', () => {
  it('a delivery waiting for its retry at stop is sent by the next start, same delivery id and body, no dead letter', async () => {
    receiver = await WebhookReceiver.start();
    receiver.failFirst = 1;
    gw = await startTestGateway(dir, { webhooks });
    const token = gw.adminToken;
    const hook = await api(gw, 'POST', '/api/webhooks', { token, body: { url: receiver.url, events: ['ping'] } });
    expect(hook.status).toBe(201);
    receiver.secret = hook.body.secret as string;
    expect((await api(gw, 'POST', `/api/webhooks/${hook.body.id}/ping`, { token })).body).toEqual({ queued: 1 });
    await vi.waitFor(() => expect(receiver!.received).toHaveLength(1), { timeout: 10_000, interval: 20 });
    await vi.waitFor(() => expect(gw!.logs.some((l) => l.message === 'webhook delivery failed, will retry')).toBe(true), { timeout: 10_000, interval: 20 });
    // /metrics reads the outbox: one delivery waiting for its retry, not yet due
    const before = await (await fetch(gw.metrics!.url)).text();
    expect(before).toMatch(/^pingw_webhook_outbox_pending 1$/m);
    expect(before).toMatch(/^pingw_webhook_outbox_lag_seconds 0$/m);
    await gw.stop();
    gw = null;
    expect(receiver.received).toHaveLength(1); // stopped before the retry was due

    gw = await startTestGateway(dir, { webhooks });
    await vi.waitFor(() => expect(receiver!.received).toHaveLength(2), { timeout: 20_000, interval: 20 });
    const [first, second] = receiver.received as [NonNullable<(typeof receiver.received)[0]>, NonNullable<(typeof receiver.received)[0]>];
    expect(first.attempt).toBe(1);
    expect(second).toMatchObject({ type: 'ping', deliveryId: first.deliveryId, attempt: 2, raw: first.raw, check: { ok: true } });
    expect((await api(gw, 'GET', '/api/webhooks/dead-letters', { token: gw.adminToken })).body).toEqual([]);
    await vi.waitFor(async () => expect(await (await fetch(gw!.metrics!.url)).text()).toMatch(/^pingw_webhook_outbox_pending 0$/m), { timeout: 10_000, interval: 50 });
  }, 60_000);
});
