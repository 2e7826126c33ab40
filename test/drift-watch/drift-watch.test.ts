/**
 * Issue 16 §2: drift watch against a real TLS server whose key the test swaps (openssl-made certificates), the
 * real gateway (SQLite, MQTT) and real mqtt.js devices. The gateway's probe is the production fetchServerPins,
 * pointed at 127.0.0.1 for the test's host name (no DNS here); the port is the one the pin set names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../gateway/config/from-env';
import type { FindingEvent } from '../../gateway/events/lifecycle-events';
import { fetchServerPins } from '../../shared/index';
import { makeCert, opensslPin, startTlsServer, type TestCert } from '../support/tls';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, FAST_CONFIG, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import type { SimDevice } from '../rollout-driver/helpers/sim-device';

const HOST = 'api.example.com';

describe('drift watch', () => {
  let f: Fixture | null = null;
  let devices: SimDevice[] = [];
  let server: Awaited<ReturnType<typeof startTlsServer>> | null = null;
  afterEach(async () => {
    await disconnectAll(devices);
    devices = [];
    await f?.close();
    f = null;
    await server?.close();
    server = null;
  });

  const probe = (host: string, port: number, opts: { timeoutMs: number }) =>
    host === HOST ? fetchServerPins('127.0.0.1', port, { ...opts, servername: HOST }) : Promise.reject(new Error(`${host} is not reachable from the test`));
  const serve = (cert: TestCert) => server!.server.setSecureContext({ key: cert.keyPem, cert: cert.certPem });

  it('raises a finding when the served key is unpinned or under-covered, lists the devices, and clears it when resolved', async () => {
    const [k1, k2, k3, k4] = [makeCert(HOST), makeCert(HOST), makeCert(HOST), makeCert(HOST)];
    const [p1, p2, p3, p4] = [k1, k2, k3, k4].map((c) => opensslPin(c.certPem)) as [string, string, string, string];
    server = await startTlsServer(k1);
    const port = server.port;
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 0 } }, undefined, { fetchServerPins: probe });
    const events: { type: string; e: FindingEvent }[] = [];
    f.gw.events.on('finding', (e) => events.push({ type: 'raised', e }));
    f.gw.events.on('findingCleared', (e) => events.push({ type: 'cleared', e }));

    devices = await f.enrolFleet('df', 10);
    const other = await f.enrolFleet('ro', 2); // a fleet that only reports on the host
    for (const d of [...devices, ...other]) d.serve(p1);
    await connectAll(f.url, [...devices, ...other]);
    const entry = (pins: string[], enforce = true) => ({ name: HOST, includeSubdomains: false, pins, enforce, port });
    const s1 = await f.call('POST', '/api/pinsets', { target: { fleet: 'df' }, hosts: [entry([p1, p2])] });
    expect(s1.status).toBe(201);
    expect(s1.body.liveCheck[0].status).toBe('ok'); // the same probe: the set pins the served key
    await f.call('POST', `/api/pinsets/${s1.body.id}/deliver`, {});
    const r1 = await f.call('POST', '/api/pinsets', { target: { fleet: 'ro' }, hosts: [entry([p1], false)] });
    await f.call('POST', `/api/pinsets/${r1.body.id}/deliver`, {});
    await waitFor('12 devices verified', async () => ([...devices, ...other].every((d) => d.installedSeq === 1) ? true : null));
    await waitFor('coverage counted', async () => {
      const rows = (await f!.call('GET', '/api/fleets/df/coverage')).body as { pin: string; verified: number }[];
      return rows.find((r) => r.pin === p1)?.verified === 10 ? true : null;
    });

    const clean = await f.call('POST', '/api/drift-watch/run');
    expect(clean.status).toBe(200);
    expect(clean.body).toMatchObject({ trigger: 'on-demand', raised: 0, open: 0, probes: [{ host: HOST, port, ok: true, servedPin: p1 }] });

    // someone renews the certificate with a new key K3 without asking
    serve(k3);
    const bad = (await f.call('POST', '/api/drift-watch/run')).body;
    expect(bad).toMatchObject({ raised: 1, open: 1, probes: [{ servedPin: p3 }] });
    const open = (await f.call('GET', '/api/findings?kind=drift')).body.open;
    expect(open).toHaveLength(1); // fleet "ro" does not enforce the host: no finding for it
    expect(open[0]).toMatchObject({ kind: 'drift-unpinned', severity: 'critical', fleet: 'df', host: HOST, detail: { servedPin: p3, atRisk: 10, port } });
    expect(open[0].detail.devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual(devices.map((d) => d.id).sort());
    expect(events).toEqual([{ type: 'raised', e: expect.objectContaining({ kind: 'drift-unpinned', fleet: 'df', host: HOST }) }]);
    // a second run sees the same problem: no new event
    await f.call('POST', '/api/drift-watch/run');
    expect(events).toHaveLength(1);

    // resolved: the server goes back to a pinned key (K2, the backup every device holds)
    serve(k2);
    const fixed = (await f.call('POST', '/api/drift-watch/run')).body;
    expect(fixed).toMatchObject({ raised: 0, cleared: 1, open: 0 });
    const after = (await f.call('GET', '/api/findings')).body;
    expect(after.open).toEqual([]);
    expect(after.resolved[0]).toMatchObject({ kind: 'drift-unpinned', resolvedAt: expect.any(Number) });
    expect(events.map((x) => x.type)).toEqual(['raised', 'cleared']);

    // a switch before the fleet is ready: {K2, K4} reaches 3 of 10 devices, then the server serves K4
    for (const d of devices) d.serve(p2);
    const s2 = await f.call('POST', '/api/pinsets', { target: { fleet: 'df' }, hosts: [entry([p2, p4])] });
    expect(s2.status).toBe(201);
    const early = devices.slice(0, 3);
    await f.call('POST', `/api/pinsets/${s2.body.id}/deliver`, { deviceIds: early.map((d) => d.id) });
    await waitFor('3 devices hold {K2, K4}', async () => (early.every((d) => d.installedSeq === 2) ? true : null));
    await waitFor('coverage of K4 counted', async () => {
      const rows = (await f!.call('GET', '/api/fleets/df/coverage')).body as { pin: string; verified: number }[];
      return rows.find((r) => r.pin === p4)?.verified === 3 ? true : null;
    });
    serve(k4);
    const low = (await f.call('POST', '/api/drift-watch/run')).body;
    expect(low).toMatchObject({ raised: 1, open: 1 });
    const lowFinding = (await f.call('GET', '/api/findings?kind=drift&fleet=df')).body.open[0];
    expect(lowFinding).toMatchObject({ kind: 'drift-low-coverage', severity: 'critical', detail: { servedPin: p4, coverage: 30, atRisk: 7, target: 95 } });
    expect(lowFinding.detail.devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual(devices.slice(3).map((d) => d.id).sort());
    expect((await f.call('GET', '/api/audit?limit=10')).body.items.some((a: { action: string }) => a.action === 'driftwatch.run')).toBe(true);
  }, 60_000);

  it('runs on its schedule; the interval defaults to 5 minutes', async () => {
    expect(configFromEnv({}).lifecycle.driftIntervalMs).toBe(300_000);
    expect(configFromEnv({ PINGW_DRIFT_INTERVAL_MS: '0' }).lifecycle.driftIntervalMs).toBe(0);
    expect(() => configFromEnv({ PINGW_DRIFT_INTERVAL_MS: 'soon' })).toThrow(/PINGW_DRIFT_INTERVAL_MS/);
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 50 } });
    await f.pinset('sched');
    const run = await waitFor('a scheduled run', async () => (await f!.call('GET', '/api/drift-watch')).body.lastRun);
    expect(run).toMatchObject({ trigger: 'schedule', probes: [{ host: 'api.example.com', ok: false }] });
  });
});
