/**
 * Issue 15 on the REAL gateway: the devices page filtered by a rollout's execution state and by "at risk for pin
 * K", with totals, sorting, previous/next pages and CSV/JSON export; the device page links to its rollouts and says
 * what its last error code means.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { login } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C } from './scenario';

let real: RealGateway;
let operator = '';
let rollout = '';
const cams: MqttDevice[] = [];
const ids = Array.from({ length: 7 }, (_, i) => `cam-${i}`);

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  for (const id of ids) cams.push(await real.device(operator, id, 'cams', '1.0.0'));
  for (const d of cams) d.hold = true;
  const set = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'cams' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: set.body.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0, errorMinFinished: 1000 } });
  rollout = String(created.body.id);
  expect((await real.call('POST', `/api/rollouts/${rollout}/start`, operator, {})).status).toBe(200);
  await vi.waitFor(() => expect(cams.every((d) => d.pending.length === 1)).toBe(true), { timeout: 10_000 });
  // cam-0 and cam-1 refuse (E_WOULD_BRICK), cam-2..4 verify, cam-5 and cam-6 stay delivered
  await cams[0]?.reject('E_WOULD_BRICK');
  await cams[1]?.reject('E_WOULD_BRICK');
  for (const d of cams.slice(2, 5)) await d.release();
  await vi.waitFor(async () => {
    const r = (await real.call('GET', `/api/rollouts/${rollout}`, operator)).body;
    expect(r.executions.byKind).toMatchObject({ REJECTED: 2, VERIFIED: 3, DELIVERED: 2 });
  });
});

afterAll(async () => {
  await real?.stop();
});

const rows = (html: string) => [...html.matchAll(/<tr data-device="([^"]+)"/g)].map((m) => m[1]);

describe('devices page on the real gateway (issue 15)', () => {
  it('filters by execution state in a rollout, with totals, sorting and previous/next pages', async () => {
    const s = await login(real.gw.api, operator);
    const rejected = await (await s.get(`/devices?rollout=${rollout}&execState=REJECTED`)).text();
    expect(rows(rejected)).toEqual(['cam-0', 'cam-1']);
    expect(rejected).toContain('<b class="device-total">2</b>');
    expect(rejected).toMatch(/<span class="badge badge-bad">rejected<\/span> <span class="small muted">wave 1 · E_WOULD_BRICK<\/span>/);

    const failedOrWaiting = await (await s.get(`/devices?rollout=${rollout}&execState=DELIVERED`)).text();
    expect(rows(failedOrWaiting)).toEqual(['cam-5', 'cam-6']);

    const desc = await (await s.get('/devices?fleet=cams&sort=deviceId&order=desc&limit=25')).text();
    expect(rows(desc)).toEqual([...ids].reverse());
    expect(desc).toContain('<b class="device-total">7</b>');

    // 7 devices, 25 per page is the smallest size: page through the API's offsets directly, as the pager does
    const p2 = (await real.call('GET', '/api/devices?fleet=cams&limit=3&offset=3&withTotal=true', operator)).body;
    expect(p2.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['cam-3', 'cam-4', 'cam-5']);
    expect(p2).toMatchObject({ total: 7, prevOffset: 0, nextOffset: 6 });
    const second = await (await s.get('/devices?fleet=cams&offset=3')).text();
    expect(second).toContain('href="/devices?fleet=cams" rel="prev" class="prev-page"');
    expect(rows(second)).toEqual(['cam-3', 'cam-4', 'cam-5', 'cam-6']);

    const unknown = await s.get('/devices?rollout=r99');
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('rollout &quot;r99&quot; not found');
    const badApi = await real.call('GET', '/api/devices?execState=REJECTED', operator);
    expect(badApi.status).toBe(400);
    expect(badApi.body.error.message).toContain('execState needs rollout');
  });

  it('at risk for a pin; CSV and JSON export of the whole result', async () => {
    const s = await login(real.gw.api, operator);
    // rotating the host to C: the 3 that installed A+B enforce it without C; the others pin nothing (safe, SPEC §8)
    const risk = await (await s.get(`/devices?fleet=cams&atRiskHost=${HOST}&atRiskPin=${encodeURIComponent(PIN_C)}`)).text();
    expect(rows(risk)).toEqual(['cam-2', 'cam-3', 'cam-4']);
    expect(risk).toContain('<b class="device-total">3</b>');
    // rotating to B: nobody is at risk
    const riskB = await (await s.get(`/devices?fleet=cams&atRiskHost=${HOST}&atRiskPin=${encodeURIComponent(PIN_B)}`)).text();
    expect(rows(riskB)).toEqual([]);

    const csv = await s.get(`/devices/export.csv?rollout=${rollout}&execState=REJECTED`);
    expect(csv.headers.get('content-disposition')).toContain('devices.csv');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('"deviceId","fleet"');
    expect(lines[1]).toMatch(/^"cam-0","cams",.*"REJECTED","1","E_WOULD_BRICK"$/);
    const json = (await (await s.get('/devices/export.json?fleet=cams&sort=verifiedSeq&order=desc')).json()) as { total: number; devices: { deviceId: string; verifiedSeq: number }[] };
    expect(json.total).toBe(7);
    expect(json.devices.slice(0, 3).map((d) => d.verifiedSeq)).toEqual([1, 1, 1]);
  });

  it('the device page links to its rollouts and explains its last error code', async () => {
    const s = await login(real.gw.api, operator);
    const html = await (await s.get('/devices/cam-0')).text();
    expect(html).toContain(`<a href="/rollouts/${rollout}" class="mono">${rollout}</a>`);
    expect(html).toContain('rejected with <span class="mono">E_WOULD_BRICK</span>: the device&#39;s live check found a server key that is not in the new set');
  });

  it('audit log: filters by actor, action (prefix) and target; targets are links; details are words, not JSON', async () => {
    const s = await login(real.gw.api, operator);
    const html = await (await s.get(`/audit?actor=olivia&action=rollout.`)).text();
    const actions = [...html.matchAll(/<tr data-action="([^"]+)"/g)].map((m) => m[1]);
    expect(actions).toEqual(['rollout.wave', 'rollout.start', 'rollout.create']);
    expect(html).toContain(`<a href="/rollouts/${rollout}">${rollout}</a>`);
    expect(html).toMatch(/started <span class="mono small muted">rollout.start<\/span><\/td><td class="mono">.*<\/td><td class="small detail">DRAFT → RUNNING · wave 1<\/td>/);
    expect(html).not.toMatch(/<td class="small detail">\{/);
    const byTarget = await (await s.get(`/audit?target=cam-3`)).text();
    expect([...byTarget.matchAll(/<tr data-action="([^"]+)"/g)].map((m) => m[1])).toEqual(['device.enrol']);
    expect(byTarget).toContain('<a href="/devices/cam-3">cam-3</a>');
    const gateway = await (await s.get(`/audit?actor=olivia&action=rollout.wave`)).text();
    expect(gateway).toMatch(/wave started .*wave 1 · 7 devices/);
  });
});
