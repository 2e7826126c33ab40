/**
 * Test data for the dashboard on the fake gateway: fleet "thermostats" (40 devices) mid-rotation of
 * api.example.com from key A to key C (pin set seq 1 pins A+B, seq 2 pins B+C), with rollout "ro-7" RUNNING in its
 * second wave; fleet "cameras" (10 devices) fully verified. One device reports a hostile firmware string.
 */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { GatewayApi } from '../../dashboard/api/api-client';
import { createDashboard, type DashboardOptions } from '../../dashboard/app';
import { FakeGateway, type FakeOptions } from './fake-gateway';

export const pin = (name: string) => `sha256/${createHash('sha256').update(name).digest('base64')}`;
export const PIN_A = pin('key A');
export const PIN_B = pin('key B');
export const PIN_C = pin('key C');
export const HOST = 'api.example.com';
export const XSS_FIRMWARE = '<script>window.__xss=1</script>';
export const XSS_DEVICE = 'thermo-039';
/** A device-supplied host name and served pin that try to break out of an attribute. */
export const XSS_HOST = 'evil"><img src=x onerror=window.__xss=2>';
export const XSS_PIN = 'sha256/"><script>window.__xss=3</script>';
export const OPERATOR = 'op-token-1';
export const VIEWER = 'viewer-token-1';
export const ROLLOUT = 'ro-7';
export const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);

export function scenario(options: FakeOptions = {}): FakeGateway {
  const g = new FakeGateway({ now: () => T0 + 3_600_000, ...options });
  g.tokens.set(OPERATOR, { name: 'olivia', role: 'operator' });
  g.tokens.set(VIEWER, { name: 'victor', role: 'viewer' });
  g.pinsets.push({ id: 1, fleet: 'thermostats', seq: 1, hosts: [{ name: HOST, pins: [PIN_A, PIN_B], enforce: true }] });
  g.pinsets.push({ id: 2, fleet: 'thermostats', seq: 2, hosts: [{ name: HOST, pins: [PIN_B, PIN_C], enforce: true }] });
  g.pinsets.push({ id: 3, fleet: 'cameras', seq: 4, hosts: [{ name: 'cam.example.net', pins: [PIN_A, PIN_B], enforce: true }] });
  for (let i = 0; i < 40; i++) {
    const id = `thermo-${String(i).padStart(3, '0')}`;
    g.devices.set(id, {
      deviceId: id,
      fleet: 'thermostats',
      deviceClass: i % 4 === 0 ? 'th-pro' : 'th-basic',
      labels: i % 10 === 0 ? ['lab'] : [],
      firmware: id === XSS_DEVICE ? XSS_FIRMWARE : `2.${(i % 3) + 3}.1`,
      online: i % 7 !== 3,
      lastSeen: T0 + 3_500_000 - i * 11_000,
      installedSeq: 1,
      verifiedSeq: 1,
      keysetVersion: 1,
      decommissioned: false,
      flagged: i === 17 ? { reason: 'E_SCHEMA x12 in 60 s', at: T0, count: 12 } : null,
    });
  }
  for (let i = 0; i < 10; i++) {
    const id = `cam-${String(i).padStart(2, '0')}`;
    g.devices.set(id, {
      deviceId: id,
      fleet: 'cameras',
      deviceClass: 'cam-v2',
      labels: [],
      firmware: '5.0.2',
      online: i !== 4,
      lastSeen: T0 + 3_000_000,
      installedSeq: 4,
      verifiedSeq: 4,
      keysetVersion: 1,
      decommissioned: i === 9,
      flagged: null,
    });
  }
  // ro-7: canary (2 devices, verified) then "rest" (38 devices, 10 applied and 28 delivered so far).
  const ids = [...g.devices.keys()].filter((id) => id.startsWith('thermo-'));
  const executions = new Map<string, { wave: number; kind: 'QUEUED' | 'DELIVERED' | 'APPLIED' | 'VERIFIED' }>();
  ids.forEach((id, i) => executions.set(id, { wave: i < 2 ? 0 : 1, kind: i < 2 ? 'VERIFIED' : i < 12 ? 'APPLIED' : 'DELIVERED' }));
  g.rollouts.set(ROLLOUT, {
    id: ROLLOUT,
    fleet: 'thermostats',
    pinsetId: 2,
    seq: 2,
    createdAt: T0,
    state: { kind: 'RUNNING', wave: 1, waveCount: 2, since: T0 + 1_800_000, soakStartedAt: null },
    plan: { waves: [{ name: 'canary', limit: { count: 2 } }, { name: 'rest', limit: { percent: 100 } }] },
    waves: [
      { index: 0, startedAt: T0 + 60_000, enrolled: 2, endedAt: T0 + 1_800_000 },
      { index: 1, startedAt: T0 + 1_800_000, enrolled: 38, endedAt: null },
    ],
    executions,
  });
  for (const id of ids.slice(0, 2)) {
    const d = g.devices.get(id);
    if (d) Object.assign(d, { installedSeq: 2, verifiedSeq: 2 });
  }
  for (const id of ids.slice(2, 12)) {
    const d = g.devices.get(id);
    if (d) d.installedSeq = 2;
  }
  g.rollouts.set('ro-6', {
    id: 'ro-6',
    fleet: 'cameras',
    pinsetId: 3,
    seq: 4,
    createdAt: T0 - 86_400_000,
    state: { kind: 'COMPLETED', at: T0 - 80_000_000 },
    plan: { waves: [{ name: 'all', limit: { percent: 100 } }] },
    waves: [{ index: 0, startedAt: T0 - 86_000_000, enrolled: 10, endedAt: T0 - 80_000_000 }],
    executions: new Map([...g.devices.keys()].filter((id) => id.startsWith('cam-')).map((id) => [id, { wave: 0, kind: 'VERIFIED' }])),
  });
  for (let i = 0; i < 24; i++) {
    const t = T0 + i * 150_000;
    g.telemetry.push({ t, ok: 30 + ((i * 7) % 11), mismatch: i === 9 || i === 10 ? 3 : i % 6 === 0 ? 1 : 0, failOpen: i > 18 ? 2 : 0 });
  }
  for (let i = 0; i < 8; i++) {
    g.reports.push({
      deviceId: i === 7 ? XSS_DEVICE : `thermo-00${i}`,
      host: i === 7 ? XSS_HOST : HOST,
      port: 443,
      result: i === 5 ? 'mismatch' : i === 6 ? 'fail-open' : 'ok',
      servedPins: [i === 5 ? pin('rogue') : i === 7 ? XSS_PIN : PIN_A],
      installedSeq: i < 2 ? 2 : 1,
      receivedAt: T0 + 3_000_000 + i * 30_000,
    });
  }
  g.log('admin', 'token.create', 'olivia', { role: 'operator' });
  g.log('release-bot', 'pinset.create', 'thermostats/2', { seq: 2, sha256: 'c0ffee'.repeat(4) });
  g.log('olivia', 'rollout.start', ROLLOUT, {});
  return g;
}

/** The fake API at /api and the dashboard at /, the way the gateway mounts them. */
export function mounted(g: FakeGateway, extra: Partial<DashboardOptions> = {}) {
  const app = new Hono();
  app.route('/', g.app);
  const dashboard = createDashboard({
    api: new GatewayApi({ fetch: (req) => Promise.resolve(app.fetch(req)) }),
    secureCookies: false,
    clock: { now: () => T0 + 3_600_000 },
    ...extra,
  });
  app.route('/', dashboard);
  return app;
}
