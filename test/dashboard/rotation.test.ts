/**
 * The rotation gate page on the REAL gateway: verdict, coverage against the target, the at-risk devices with
 * paging. Fleet "valves": 55 devices enrolled that never said hello and 2 online ones that verified a set pinning
 * A+B; fleet "cameras": 2 online devices with the same set (so B is ready there).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { login } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C } from './scenario';

let real: RealGateway;
let viewer = '';

const url = (fleet: string, pin: string, cursor = '') => `/rotation?${new URLSearchParams({ fleet, host: HOST, pin, ...(cursor !== '' ? { cursor } : {}) })}`;
const rows = (html: string) => [...html.matchAll(/<tr data-device="([^"]+)"/g)].map((m) => m[1]);

beforeAll(async () => {
  real = await startRealGateway();
  const operator = await real.token('olivia', 'operator');
  viewer = await real.token('victor', 'viewer');
  for (let i = 0; i < 55; i++) await real.enrol(operator, `valve-${String(i).padStart(2, '0')}`, 'valves');
  const online: MqttDevice[] = [];
  for (const [id, fleet] of [['valve-on-1', 'valves'], ['valve-on-2', 'valves'], ['cam-1', 'cameras'], ['cam-2', 'cameras']] as const) online.push(await real.device(operator, id, fleet, '1.0'));
  for (const fleet of ['valves', 'cameras']) {
    const set = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
    await real.call('POST', `/api/pinsets/${set.body.id}/deliver`, real.admin, {});
  }
  await vi.waitFor(() => expect(online.every((d) => d.verified.length === 1)).toBe(true), { timeout: 10_000 });
});

afterAll(async () => {
  await real?.stop();
});

describe('rotation gate page', () => {
  it('is linked from the overview and lists the devices at risk, paged', async () => {
    const s = await login(real.gw.api, viewer);
    const overview = await (await s.get('/')).text();
    // the overview lists the pins devices hold (A, B); B is pinned by the 2 online valves only
    expect(overview).toContain(`href="${url('valves', PIN_B).replaceAll('&', '&amp;')}"`);
    expect(await (await s.get(url('valves', PIN_C))).text()).toContain('57 devices would lose connectivity');
    const first = await (await s.get(url('valves', PIN_B))).text();
    expect(first).toContain('data-gate="not-ready"');
    expect(first).toContain('55 devices would lose connectivity');
    const page1 = rows(first);
    expect(page1).toHaveLength(50);
    const next = /href="(\/rotation\?[^"]*cursor=[^"]+)"[^>]*>\s*Next page/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const later = await (await s.get(next ?? '')).text();
    const page2 = rows(later);
    expect(page2).toHaveLength(5);
    expect(new Set([...page1, ...page2]).size).toBe(55);
    expect(page2.some((id) => id?.startsWith('valve-on'))).toBe(false);
    expect(later).toContain('« First page');
    expect(later).toContain('last page');
    const ready = await (await s.get(url('cameras', PIN_B))).text();
    expect(ready).toContain('data-gate="ready"');
    expect(ready).toContain('No device is at risk.');
  });

  it('needs fleet, host and pin, and a session', async () => {
    expect((await real.gw.api.request(url('valves', PIN_C))).status).toBe(303);
    const s = await login(real.gw.api, viewer);
    const res = await s.get('/rotation?fleet=valves');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
  });
});
