import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { topicFor } from '../../shared/index';
import { removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { FAST_CONFIG, connectAll, disconnectAll, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { PIN_A, PIN_B, type SimDevice } from '../rollout-driver/helpers/sim-device';

/** One sample of a scrape: the value of `name{labels…}` (labels given must all match), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[4]);
  }
  return undefined;
}

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('Prometheus /metrics, scraped over HTTP while a rollout runs', () => {
  let f: Fixture;
  let devices: SimDevice[];

  beforeAll(async () => {
    f = await startFixture(FAST_CONFIG);
    devices = await f.enrolFleet('fleet-m', 6, 'm');
    await connectAll(f.url, devices);
  });
  afterAll(async () => {
    await disconnectAll(devices);
    await f.close();
  });

  it('answers in the text format with no token, on the API listener by default', async () => {
    const gw = f.gw;
    expect(gw.metrics?.url).toBe(`${gw.http.url}/metrics`);
    const r = await scrape(gw.metrics!.url);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(r.text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(r.text, 'pingw_devices', { fleet: 'fleet-m', state: 'online' })).toBe(6);
    expect(sample(r.text, 'pingw_devices', { fleet: 'fleet-m', state: 'offline' })).toBe(0);
  });

  it('shows the rollout state, its executions per state, acks ingested and coverage as waves advance', async () => {
    const p = await f.pinset('fleet-m', [PIN_A, PIN_B]);
    // wave 1 of 2 devices, then a 10-minute soak: the rollout is RUNNING for the whole test
    const created = await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { count: 2 } }, { limit: { percent: 100 } }] } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await f.call('POST', `/api/rollouts/${id}/start`, {})).status).toBe(200);
    let text = '';
    await vi.waitFor(async () => {
      text = (await scrape(f.gw.metrics!.url)).text;
      expect(sample(text, 'pingw_rollout_executions', { rollout: id, state: 'VERIFIED' })).toBe(2);
    }, { timeout: 20_000, interval: 100 });
    expect(sample(text, 'pingw_rollout_state', { rollout: id, fleet: 'fleet-m', state: 'RUNNING' })).toBe(1);
    expect(sample(text, 'pingw_acks_ingested_total', { status: 'verified' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'pingw_acks_ingested_total', { status: 'applied' })).toBeGreaterThanOrEqual(2);
    // SPEC §8: 2 of 6 devices verified a set pinning PIN_B
    expect(sample(text, 'pingw_coverage_ratio', { fleet: 'fleet-m', host: 'api.example.com', pin: PIN_B })).toBeCloseTo(2 / 6, 5);
    expect(sample(text, 'pingw_coverage_verified_devices', { fleet: 'fleet-m', host: 'api.example.com', pin: PIN_B })).toBe(2);
    // the API calls above were timed, by route pattern
    expect(sample(text, 'pingw_api_request_duration_seconds_count', { method: 'POST', route: '/api/rollouts/:id/start', status: '200' })).toBe(1);
  });

  it('counts refused device connects by reason and malformed messages by code', async () => {
    const bad = await mqtt.connectAsync(f.url, { clientId: 'm-000', username: 'm-000', password: 'wrong', reconnectPeriod: 0 }).catch((e: Error) => e);
    expect(bad).toBeInstanceOf(Error);
    const d = devices[5] as SimDevice;
    await d.client!.publishAsync(topicFor(d.id, 'ack'), Buffer.from([0xff, 0x00]), { qos: 1 });
    await vi.waitFor(async () => {
      const text = (await scrape(f.gw.metrics!.url)).text;
      expect(sample(text, 'pingw_device_connects_refused_total', { reason: 'bad_credentials' })).toBe(1);
      expect(sample(text, 'pingw_device_messages_refused_total', { kind: 'ack' })).toBe(1);
    }, { timeout: 10_000, interval: 100 });
  });
});

describe('/metrics bound to a listener of its own', () => {
  const dir = tempDir();
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(dir, { metrics: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await gw.stop();
    removeDir(dir);
  });

  it('serves GET /metrics there only', async () => {
    const url = gw.metrics!.url;
    expect(url).not.toContain(`:${gw.http.port}/`);
    const r = await scrape(url);
    expect(r.status).toBe(200);
    expect(r.text).toContain('# TYPE pingw_api_request_duration_seconds histogram');
    expect((await scrape(url.replace('/metrics', '/api/devices'))).status).toBe(404);
    const onApi = await scrape(`${gw.http.url}/metrics`);
    expect(onApi.text).not.toContain('pingw_devices');
  });
});
