/**
 * Issue 15 on the REAL gateway: the rotation gate page (reasons the headline and the rows agree on, a target the
 * operator changes, pins marked served now / new key / backup, export of the at-risk list), recording a rotation
 * through the gate (forced only with a reason and the typed host name), an empty fleet that is not "100 % ready",
 * and the telemetry chart that does not join empty buckets.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runs, TelemetryChart } from '../../dashboard/components/chart';
import { csvField } from '../../dashboard/components/csv';
import { cookiesOf, login, type LoggedIn } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C } from './scenario';

let real: RealGateway;
let operator = '';
const fans: MqttDevice[] = [];

const set = (pins: string[]) => ({ target: { fleet: 'fans' }, hosts: [{ name: HOST, includeSubdomains: false, pins, enforce: true }] });
const q = (pin: string, extra = '') => `fleet=fans&host=${HOST}&pin=${encodeURIComponent(pin)}${extra}`;

async function follow(s: LoggedIn, res: Response): Promise<string> {
  const location = res.headers.get('location') ?? '';
  return (await real.gw.api.request(location, { headers: { cookie: `${s.cookie}; ${cookiesOf(res)}` } })).text();
}

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  // 4 fans verify seq 1 (A+B), then seq 2 (B+C) goes to 3 of them; a 5th is enrolled and never connects
  for (let i = 0; i < 4; i++) fans.push(await real.device(operator, `fan-${i}`, 'fans', '1.0.0'));
  await real.enrol(operator, 'fan-silent', 'fans');
  const s1 = await real.call('POST', '/api/pinsets', real.admin, set([PIN_A, PIN_B]));
  expect((await real.call('POST', `/api/pinsets/${s1.body.id}/deliver`, operator, {})).status).toBe(200);
  await vi.waitFor(() => expect(fans.every((d) => d.verified.includes(1))).toBe(true), { timeout: 10_000 });
  const s2 = await real.call('POST', '/api/pinsets', real.admin, set([PIN_B, PIN_C]));
  expect((await real.call('POST', `/api/pinsets/${s2.body.id}/deliver`, operator, { deviceIds: ['fan-0', 'fan-1', 'fan-2'] })).status).toBe(200);
  await vi.waitFor(() => expect(fans.filter((d) => d.verified.includes(2))).toHaveLength(3), { timeout: 10_000 });
  await fans[0]?.report(HOST, [PIN_B]);
  await vi.waitFor(async () => expect((await real.call('GET', '/api/reports?fleet=fans', operator)).body.length).toBeGreaterThan(0));
});

afterAll(async () => {
  await real?.stop();
});

describe('rotation gate page on the real gateway (issue 15)', () => {
  it('gives the reasons of the at-risk devices, a target to change, and what each pin is', async () => {
    const s = await login(real.gw.api, operator);
    const html = await (await s.get(`/rotation?${q(PIN_C)}`)).text();
    expect(html).toContain('Coverage 60 % (3 of 5) is below the 95 % target.');
    expect(html).toMatch(/<li data-why="pin-absent"><b>1<\/b> enforces the host without this pin/);
    expect(html).toMatch(/<li data-why="never-said-hello"><b>1<\/b> never said hello/);
    expect(html).toContain('<span class="pin-role pin-role-new">new key</span>');
    const lower = await (await s.get(`/rotation?${q(PIN_C, '&target=60')}`)).text();
    expect(lower).toContain('data-gate="ready"');
    expect(lower).toContain('name="target" min="0.01" max="100" step="0.01" value="60"');
    const overview = await (await s.get('/')).text();
    expect(overview).toMatch(new RegExp(`title="${PIN_B.replace(/[+/]/g, '\\$&')}"[^<]*</span> <span class="pin-role pin-role-served">served now</span>`));

    const csv = await s.get(`/rotation/at-risk.csv?${q(PIN_C)}`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toBe('"deviceId","why","online","installedSeq"\r\n"fan-3","pin-absent","true","1"\r\n"fan-silent","never-said-hello","false","0"\r\n');
    const json = (await (await s.get(`/rotation/at-risk.json?${q(PIN_C)}`)).json()) as { devices: { deviceId: string }[] };
    expect(json.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['fan-3', 'fan-silent']);
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });

  it('records a rotation only through the gate; forcing needs a reason and the typed host name; history and audit show it', async () => {
    const s = await login(real.gw.api, operator);
    const form = (extra: Record<string, string>) => ({ _csrf: s.csrf, fleet: 'fans', host: HOST, pin: PIN_C, target: '95', ...extra });
    const page = await (await s.get(`/rotation?${q(PIN_C)}`)).text();
    expect(page).toContain('Force rotation past the gate');

    // not ready, not forced (a stale form): the gateway's 422, shown as an error
    const refused = await s.post('/rotation/record', form({}));
    expect(refused.status).toBe(303);
    expect(await follow(s, refused)).toContain('The gateway refused to record the rotation (E_GATE_NOT_MET)');
    // forced with the wrong confirmation, or without a reason: refused here, nothing recorded
    expect(await follow(s, await s.post('/rotation/record', form({ force: 'true', reason: 'cert expires', confirm: 'api.example' })))).toContain(
      `type the host name &quot;${HOST}&quot; exactly`,
    );
    expect(await follow(s, await s.post('/rotation/record', form({ force: 'true', confirm: HOST })))).toContain('needs a written reason');
    expect((await real.call('GET', '/api/rotations?fleet=fans', operator)).body).toEqual([]);

    const forced = await follow(s, await s.post('/rotation/record', form({ force: 'true', reason: 'old key leaked', confirm: HOST })));
    expect(forced).toContain('Forced rotation of api.example.com recorded');
    expect(forced).toContain('class="alert alert-info rotation-recorded"');
    expect(forced).toMatch(/<tr data-rotation="\d+">.*forced.*olivia.*old key leaked/s);
    const audit = (await real.call('GET', '/api/audit?action=rotation.', real.admin)).body.items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(['rotation.forced', 'rotation.refused']);

    // met gate (target 60 %): a plain record
    const met = await follow(s, await s.post('/rotation/record', form({ target: '60', reason: '' })));
    expect(met).toContain('Rotation of api.example.com recorded.');
  });

  it('an empty fleet is "no devices", not "100 % ready"', async () => {
    const s = await login(real.gw.api, operator);
    const html = await (await s.get(`/rotation?fleet=nobody&host=${HOST}&pin=${encodeURIComponent(PIN_C)}`)).text();
    expect(html).toContain('data-gate="empty"');
    expect(html).not.toContain('100 %');
    expect(html).not.toContain('>ready<');
  });

  it('telemetry chart: a line joins adjacent buckets only; an empty minute is a gap', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0);
    const p = (m: number) => ({ t: t0 + m * 60_000, ok: 3, mismatch: 0, failOpen: 0 });
    expect(runs([p(0), p(1), p(5), p(6), p(9)], 60_000).map((r) => r.length)).toEqual([2, 2, 1]);
    const svg = String(TelemetryChart({ points: [p(0), p(1), p(5), p(6), p(9)], bucketMs: 60_000, title: 't' }));
    expect(svg.match(/<polyline/g)).toHaveLength(6); // 2 runs of 2 points × 3 series; the lone point is only a dot
  });
});
