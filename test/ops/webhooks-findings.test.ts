/**
 * Issue 18 "drift or CT findings once they exist": a drift finding raised by the real drift watch (a real TLS server
 * whose key the test swaps) is announced to a real HTTP receiver as finding.raised, and as finding.cleared when the
 * server serves a pinned key again; each delivery signed (HMAC-SHA256 over timestamp and body).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fetchServerPins } from '../../shared/index';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, FAST_CONFIG, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import type { SimDevice } from '../rollout-driver/helpers/sim-device';
import { makeCert, opensslPin, startTlsServer } from '../support/tls';
import { WebhookReceiver } from './webhook-receiver';

const HOST = 'api.example.com';

describe('webhooks for lifecycle findings', () => {
  let f: Fixture | null = null;
  let devices: SimDevice[] = [];
  let server: Awaited<ReturnType<typeof startTlsServer>> | null = null;
  let receiver: WebhookReceiver | null = null;
  afterEach(async () => {
    await disconnectAll(devices);
    devices = [];
    await f?.close();
    f = null;
    await server?.close();
    server = null;
    await receiver?.close();
    receiver = null;
  });

  it('a drift finding is announced as finding.raised, and finding.cleared once resolved', async () => {
    const [k1, k2, k3] = [makeCert(HOST), makeCert(HOST), makeCert(HOST)];
    const [p1, p2] = [k1, k2].map((c) => opensslPin(c.certPem)) as [string, string];
    server = await startTlsServer(k1);
    const port = server.port;
    const probe = (host: string, p: number, opts: { timeoutMs: number }) =>
      host === HOST ? fetchServerPins('127.0.0.1', p, { ...opts, servername: HOST }) : Promise.reject(new Error(`${host} unreachable`));
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 0 } }, undefined, { fetchServerPins: probe });
    receiver = await WebhookReceiver.start();
    const hook = await f.call('POST', '/api/webhooks', { url: receiver.url, events: ['finding.raised', 'finding.cleared'] });
    expect(hook.status).toBe(201);
    receiver.secret = hook.body.secret as string;

    devices = await f.enrolFleet('wf', 3);
    for (const d of devices) d.serve(p1);
    await connectAll(f.url, devices);
    const set = await f.call('POST', '/api/pinsets', { target: { fleet: 'wf' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [p1, p2], enforce: true, port }] });
    expect(set.status).toBe(201);
    await f.call('POST', `/api/pinsets/${set.body.id}/deliver`, {});
    await waitFor('3 devices verified', async () => (devices.every((d) => d.installedSeq === 1) ? true : null));

    server.server.setSecureContext({ key: k3.keyPem, cert: k3.certPem }); // renewed with an unpinned key
    expect((await f.call('POST', '/api/drift-watch/run')).body).toMatchObject({ raised: 1 });
    const raised = await waitFor('finding.raised delivered', () => receiver!.received.find((r) => r.type === 'finding.raised'));
    expect(raised.check).toMatchObject({ ok: true });
    expect(raised.body.data).toMatchObject({ kind: 'drift-unpinned', severity: 'critical', fleet: 'wf', host: HOST });

    server.server.setSecureContext({ key: k2.keyPem, cert: k2.certPem }); // back to the backup every device pins
    expect((await f.call('POST', '/api/drift-watch/run')).body).toMatchObject({ cleared: 1 });
    const cleared = await waitFor('finding.cleared delivered', () => receiver!.received.find((r) => r.type === 'finding.cleared'));
    expect(cleared.check).toMatchObject({ ok: true });
    expect(cleared.body.data).toMatchObject({ kind: 'drift-unpinned', key: raised.body.data['key'] });
  });
});
