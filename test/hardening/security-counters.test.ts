/**
 * Issue 17 "count it where operators see it", on a real gateway over real sockets: credential guessing (per
 * identity and per address), a credential used from two connections, a refused publish, a malformed payload,
 * reports over the per-device cap and refused API bodies are counted on /metrics, on GET /api/security (per fleet,
 * the devices most affected, in the API contract's shape), on the dashboard's Security page (linking to the
 * devices), and raised as webhooks where an operator is paged (device.flagged, device.login-throttled once).
 */
import { MqttClient, type IClientOptions } from 'mqtt';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as contract from '../../api-contract/index';
import { encodeReport, topicFor } from '../../shared/index';
import { login, ORIGIN } from '../dashboard/helpers';
import { connectDevice, mqttUrl } from '../gateway/helpers/device-client';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { WebhookReceiver } from '../ops/webhook-receiver';

const FLEET = 'sec-a';
let dir: string;
let gw: TestGateway;
let receiver: WebhookReceiver;
const creds: Record<string, string> = {};
/** Every guessing CONNECT the test made, with its outcome (CONNACK code, or -1: closed before a CONNACK). */
const attempts: { deviceId: string; code: number }[] = [];

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir);
  receiver = await WebhookReceiver.start();
  const hook = await api(gw, 'POST', '/api/webhooks', { token: gw.adminToken, body: { url: receiver.url, events: ['device.flagged', 'device.login-throttled'] } });
  expect(hook.status).toBe(201);
  receiver.secret = hook.body.secret as string;
  for (const id of ['sec-g', 'sec-h', 'sec-t', 'sec-p']) creds[id] = await enrol(gw, id, FLEET);
});
afterAll(async () => {
  await gw.stop();
  await receiver.close();
  removeDir(dir);
});

/** An MQTT client whose socket leaves from another loopback address (another "host" for the gateway). */
function connectFrom(localAddress: string, opts: IClientOptions): Promise<{ client: MqttClient; code: number }> {
  return new Promise((resolve) => {
    const client = new MqttClient(() => netConnect({ port: gw.mqtt!.port, host: '127.0.0.1', localAddress }), {
      protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...opts,
    });
    client.once('connect', () => resolve({ client, code: 0 }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ client, code: (err as { code?: number }).code ?? -1 });
    });
    client.once('close', () => resolve({ client, code: -1 }));
  });
}

async function guess(from: string, deviceId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await connectFrom(from, { clientId: deviceId, username: deviceId, password: `guess-${i}` });
    attempts.push({ deviceId, code: r.code });
  }
}

/** Sum of the samples of a metric whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[3]);
      seen = true;
    }
  }
  if (!seen) throw new Error(`no sample ${name} ${JSON.stringify(labels)} in /metrics`);
  return sum;
}

describe('security counters where operators see them', () => {
  it('hostile devices and requests are counted on /metrics, GET /api/security, the dashboard and webhooks', async () => {
    const url = mqttUrl(gw);
    // an honest device logs in from 127.0.0.5: a neighbour behind the same address then guesses sec-g's credential
    // (the address is not closed at accept, so the throttle answers each guess: throttled attempts are counted)
    const honest = await connectFrom('127.0.0.5', { clientId: 'sec-h', username: 'sec-h', password: creds['sec-h']! });
    expect(honest.code).toBe(0);
    await guess('127.0.0.5', 'sec-g', 20);
    // an id that is not enrolled, from an address no device uses: refused, then closed at accept
    await guess('127.0.0.4', 'ghost-1', 8);
    expect(attempts.every((a) => a.code === 4 || a.code === -1)).toBe(true);
    // a credential used from two connections at once (sec-t on 127.0.0.1, then from 127.0.0.3)
    const first = await connectDevice(url, 'sec-t', creds['sec-t']!, { hello: false });
    const second = await connectFrom('127.0.0.3', { clientId: 'sec-t', username: 'sec-t', password: creds['sec-t']! });
    expect(second.code).toBe(0);
    // sec-p: a malformed hello, 35 distinct reports (5 over the per-device cap of 30), then a publish on a topic
    // that is not its own (refused; the broker closes the connection)
    const p = await connectDevice(url, 'sec-p', creds['sec-p']!, { hello: { fleet: FLEET } });
    await p.publish('hello', Buffer.from([0xa1, 0x01]));
    for (let i = 0; i < 35; i++) {
      await p.publish('report', encodeReport({ host: `h${i}.example.com`, port: 443, result: 'mismatch', servedPins: [new Uint8Array(32).fill(i + 1)], installedSeq: 0, time: 1_700_000_000 + i }));
    }
    let pClosed = false;
    p.client.on('close', () => (pClosed = true));
    p.client.publish(topicFor('sec-t', 'report'), Buffer.from([0]), { qos: 0 });
    await vi.waitFor(() => expect(pClosed).toBe(true), { timeout: 10_000, interval: 50 });
    // refused API bodies: one over the 64 KiB cap, one that is not JSON
    const big = await api(gw, 'POST', '/api/devices', { token: gw.adminToken, rawBody: JSON.stringify({ deviceId: 'x', fleet: 'y', deviceClass: 'z'.repeat(70_000) }) });
    expect(big.status).toBe(413);
    expect((await api(gw, 'POST', '/api/devices', { token: gw.adminToken, rawBody: '{not json' })).status).toBe(400);
    // refused dashboard forms: one over the 64 KiB form cap, one without its CSRF field
    const form = (body: string) => gw.api.request('/login', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await form(`token=${'x'.repeat(100_000)}`)).status).toBe(413);
    expect((await form('token=abc')).status).toBe(403);

    // --- GET /api/security, in the contract's shape
    const report = await vi.waitFor(
      async () => {
        const r = contract.security.security.parse((await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body);
        expect(r.totals).toMatchObject({ refusedPublishes: 1, reportsOverLimit: 5, suspiciousTakeovers: 1, flags: 1 });
        return r;
      },
      { timeout: 10_000, interval: 50 },
    );
    const broker = report.broker!;
    const closedAtAccept = broker.closedAtAccept;
    // every guess is counted once: a wrong credential, a throttled attempt, or a connection closed at accept
    expect(report.totals.authFailures + report.totals.throttled + closedAtAccept).toBe(attempts.length);
    expect(broker.authFailures).toBe(report.totals.authFailures);
    expect(broker.throttled).toBe(report.totals.throttled);
    const g = report.devices.find((d) => d.deviceId === 'sec-g')!;
    expect(g).toMatchObject({ fleet: FLEET, lastFrom: '127.0.0.5' });
    expect(g.authFailures).toBeGreaterThanOrEqual(3); // the free failures, each a credential check
    expect(g.throttled).toBeGreaterThan(0);
    expect(g.authFailures + g.throttled).toBe(20);
    expect(report.devices[0]).toMatchObject({ deviceId: 'sec-t', fleet: FLEET, suspiciousTakeovers: 1, takeovers: 1, flags: 1, lastFrom: '127.0.0.3' });
    expect(report.devices.find((d) => d.deviceId === 'sec-p')).toMatchObject({ fleet: FLEET, refusedPublishes: 1, malformed: 1, reportsOverLimit: 5 });
    expect(report.devices.find((d) => d.deviceId === 'ghost-1')).toMatchObject({ fleet: null });
    expect(report.devices.find((d) => d.deviceId === 'sec-h')).toBeUndefined(); // the honest device has nothing counted
    const fleet = report.fleets.find((f) => f.fleet === FLEET)!;
    expect(fleet).toMatchObject({ devices: 3, authFailures: g.authFailures, throttled: g.throttled, suspiciousTakeovers: 1, refusedPublishes: 1, malformed: 1, reportsOverLimit: 5 });
    expect(report.fleets.find((f) => f.fleet === null)).toMatchObject({ devices: 1 });
    expect(report.telemetry).toMatchObject({ overLimit: 5 });
    expect(report.apiRefused).toMatchObject({ E_TOO_LARGE: 1, E_BAD_JSON: 1 });

    // --- /metrics (Prometheus text), the same figures
    const res = await gw.api.request('/metrics');
    expect(res.status).toBe(200);
    const m = await res.text();
    expect(sample(m, 'pingw_device_auth_refused_total', { reason: 'wrong_credential' })).toBe(report.totals.authFailures);
    expect(sample(m, 'pingw_device_auth_refused_total', { reason: 'throttled' })).toBe(report.totals.throttled);
    expect(sample(m, 'pingw_device_admission_total', { outcome: 'closed_at_accept' })).toBe(closedAtAccept);
    expect(sample(m, 'pingw_device_admission_total', { outcome: 'checked' })).toBeGreaterThanOrEqual(report.totals.authFailures + 3);
    expect(sample(m, 'pingw_device_session_takeovers_total', { suspicious: 'true' })).toBe(1);
    expect(sample(m, 'pingw_devices_flagged_total')).toBe(1);
    expect(sample(m, 'pingw_device_messages_refused_total', { kind: 'publish', code: 'E_TOPIC' })).toBe(1);
    expect(sample(m, 'pingw_device_messages_refused_total', { kind: 'hello' })).toBe(1);
    expect(sample(m, 'pingw_device_messages_refused_total', { kind: 'report', code: 'E_RATE' })).toBe(5);
    expect(sample(m, 'pingw_reports_dropped_total', { reason: 'over_limit' })).toBe(5);
    expect(sample(m, 'pingw_api_requests_refused_total', { code: 'E_TOO_LARGE', status: '413' })).toBe(1);
    expect(sample(m, 'pingw_api_requests_refused_total', { code: 'E_BAD_JSON', status: '400' })).toBe(1);
    expect(sample(m, 'pingw_dashboard_requests_refused_total', { status: '413' })).toBe(1);
    expect(sample(m, 'pingw_dashboard_requests_refused_total', { status: '403' })).toBe(1);

    // --- webhooks: the flagged device, and one device.login-throttled for sec-g however many guesses were throttled
    const flagged = await vi.waitFor(() => {
      const r = receiver.received.find((x) => x.type === 'device.flagged');
      expect(r).toBeDefined();
      return r!;
    });
    expect(flagged.check).toMatchObject({ ok: true });
    expect(flagged.body.data).toMatchObject({ deviceId: 'sec-t' });
    expect(String(flagged.body.data['reason'])).toContain('127.0.0.3');
    await vi.waitFor(() => expect(receiver.received.filter((x) => x.type === 'device.login-throttled').map((x) => x.body.data['deviceId'])).toContain('sec-g'));
    expect(receiver.received.filter((x) => x.type === 'device.login-throttled' && x.body.data['deviceId'] === 'sec-g')).toHaveLength(1);

    // --- the dashboard's Security page: per fleet, the devices most affected, each enrolled one linked
    const session = await login(gw.api, gw.adminToken);
    const page = await session.get('/security');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('href="/security"');
    expect(html).toMatch(new RegExp(`<tr data-fleet="${FLEET}">.*?<td class="num">3</td><td class="num sec-authFailures">${g.authFailures}</td>`, 's'));
    expect(html).toContain('href="/devices/sec-t"');
    expect(html).toContain('href="/devices/sec-g"');
    expect(html).toMatch(/<tr data-device="sec-t">.*?two holders/s);
    expect(html).toContain('<tr data-device="ghost-1">');
    expect(html).not.toContain('href="/devices/ghost-1"');
    expect(html).toContain('E_TOO_LARGE');

    first.client.end(true);
    second.client.end(true);
    honest.client.end(true);
  });
});
