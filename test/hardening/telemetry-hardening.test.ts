/**
 * Issue 17, telemetry poisoning, on a real gateway with real MQTT devices: a device's repeated report is stored
 * once a day, a device's reports are capped per window (the excess acknowledged, counted as E_RATE, not stored),
 * and the rollout telemetry gate counts devices, so 3 flapping devices cannot pause a rollout on their own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReport, parsePin, topicFor } from '../../shared/index';
import { connectDevice } from '../gateway/helpers/device-client';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { HOST, pinText, type SimDevice } from '../rollout-driver/helpers/sim-device';

let f: Fixture | null = null;
let all: SimDevice[] = [];
afterEach(async () => {
  await disconnectAll(all);
  all = [];
  await f?.close();
  f = null;
});

const pinBytes = (n: number) => {
  const r = parsePin(pinText(n));
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('telemetry poisoning', () => {
  it('one device flooding QoS-1 reports: duplicates stored once, the excess over the cap counted and dropped', async () => {
    f = await startFixture();
    const [d] = await f.enrolFleet('fleet-p', 1);
    const dev = await connectDevice(f.url, d!.id, d!.credential, { hello: { fleet: 'fleet-p' } });
    const t0 = Math.floor(Date.now() / 1000);
    // 200 copies of one report (only the device time differs), then 100 reports each naming another served key
    for (let i = 0; i < 200; i++) {
      await dev.client.publishAsync(topicFor(d!.id, 'report'), Buffer.from(encodeReport({ host: HOST, port: 443, result: 'mismatch', servedPins: [pinBytes(9)], installedSeq: 0, time: t0 + i })), { qos: 1 });
    }
    for (let i = 0; i < 100; i++) {
      await dev.client.publishAsync(topicFor(d!.id, 'report'), Buffer.from(encodeReport({ host: HOST, port: 443, result: 'mismatch', servedPins: [pinBytes(20 + i)], installedSeq: 0, time: t0 + 1000 + i })), { qos: 1 });
    }
    const detail = await waitFor('E_RATE counted', async () => {
      const r = (await f!.call('GET', `/api/devices/${d!.id}`)).body;
      return r.malformed.some((m: { code: string; count: number }) => m.code === 'E_RATE' && m.count === 71) ? r : null;
    });
    const stored = (await f.call('GET', `/api/reports?fleet=fleet-p&limit=1000`)).body;
    expect(stored).toHaveLength(30); // the default cap: 30 per device per hour
    expect(detail.history.filter((h: { type: string }) => h.type === 'report')).toHaveLength(30);
    const series = (await f.call('GET', '/api/telemetry?fleet=fleet-p&bucketSeconds=3600')).body;
    expect(series.reduce((n: number, p: { mismatch: number }) => n + p.mismatch, 0)).toBe(30);
    const counts = (await f.call('GET', '/api/security')).body.telemetry;
    expect(counts).toMatchObject({ accepted: 30, duplicate: 199, overLimit: 71 });
    await dev.end();
  });

  it('3 flapping devices sending 12 mismatch reports do not trip the telemetry gate (it counts devices)', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fleet-g', 10);
    await connectAll(f.url, all);
    const p = await f.pinset('fleet-g');
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { count: 6 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 600_000 } })).body.id;
    await f.call('POST', `/api/rollouts/${id}/start`);
    await waitFor('wave 0 verified', async () => (await f!.rollout(id)).executions.byKind.VERIFIED === 6);
    const flapping = all.filter((d) => d.installedSeq === p.seq).slice(0, 3);
    for (const d of flapping) for (let i = 0; i < 4; i++) await d.report('mismatch', pinText(30 + i));
    await waitFor('12 mismatch reports stored', async () => {
      const series = (await f!.call('GET', '/api/telemetry?fleet=fleet-g&bucketSeconds=3600')).body;
      return series.reduce((n: number, pt: { mismatch: number }) => n + pt.mismatch, 0) === 12;
    });
    await f.gw.rollouts.tick(id);
    const r = await f.rollout(id);
    expect(r.state.kind).toBe('RUNNING'); // 3 reporting devices < telemetryMinReports (10 devices)
  });
});
