/**
 * Every dashboard route through Hono's app.request() on the REAL gateway (one per file, real-harness.ts): log-in
 * required, cookies, roles, CSRF refusal, escaping, the mount under the gateway. Fleet "thermostats": 8 devices
 * over MQTT (thermo-003 enrolled but never connected, thermo-000 of class th-pro, thermo-007 with a hostile
 * firmware string), pin set 1 (A+B) verified everywhere, rollout of set 2 (B+C) in its second wave with 2
 * devices held at "delivered" and the offline one queued.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CSP } from '../../dashboard/app';
import { cookiesOf, csrfOf, formBody, login, ORIGIN } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { startRealGateway, type RealGateway } from './real-harness';
import { HOST, pin, PIN_A, PIN_B, PIN_C, XSS_FIRMWARE, XSS_HOST } from './scenario';

let real: RealGateway;
let operator = '';
let viewer = '';
let rollout = '';
const devices = new Map<string, MqttDevice>();
const ID = (i: number) => `thermo-${String(i).padStart(3, '0')}`;
const XSS_DEVICE = ID(7);

const rolloutState = async (id: string) => (await real.call('GET', `/api/rollouts/${id}`, real.admin)).body.state.kind as string;

/** A DRAFT rollout of a fresh pin set (for the tests that change a rollout's state). */
async function newRollout(): Promise<string> {
  const set = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'thermostats' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_B, PIN_C], enforce: true }] });
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: set.body.id, gates: { soakMs: 3_600_000 } });
  expect(created.status).toBe(201);
  return String(created.body.id);
}

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  viewer = await real.token('victor', 'viewer');
  for (let i = 0; i < 8; i++) {
    const enrolled = await real.call('POST', '/api/devices', operator, { deviceId: ID(i), fleet: 'thermostats', deviceClass: i === 0 ? 'th-pro' : 'th-basic' });
    if (i === 3) continue; // enrolled, never connected: offline
    devices.set(ID(i), await real.connect(ID(i), enrolled.body.credential, 'thermostats', i === 7 ? XSS_FIRMWARE : '2.4.1'));
  }
  const online = [...devices.values()];
  const first = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'thermostats' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
  await real.call('POST', `/api/pinsets/${first.body.id}/deliver`, real.admin, {});
  await vi.waitFor(() => expect(online.every((d) => d.verified.includes(1))).toBe(true), { timeout: 15_000 });
  for (const d of online) d.hold = true;
  const second = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'thermostats' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_B, PIN_C], enforce: true }] });
  const plan = { waves: [{ name: 'canary', selector: { deviceIds: [ID(1), ID(2)] }, limit: { percent: 100 } }, { name: 'rest', limit: { percent: 100 } }] };
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: second.body.id, plan, gates: { soakMs: 0, errorMinFinished: 1000 } });
  rollout = String(created.body.id);
  await real.call('POST', `/api/rollouts/${rollout}/start`, operator, {});
  await vi.waitFor(() => expect([ID(1), ID(2)].every((id) => devices.get(id)?.pending.length === 1)).toBe(true), { timeout: 15_000 });
  for (const id of [ID(1), ID(2)]) await devices.get(id)?.release();
  const rest = [0, 4, 5, 6, 7].map((i) => devices.get(ID(i)));
  await vi.waitFor(() => expect(rest.every((d) => d?.pending.length === 1)).toBe(true), { timeout: 15_000 });
  for (const i of [0, 4, 5]) await devices.get(ID(i))?.release();
  // reports: one ok, one mismatch with a key nobody pins, one for a host name that tries to break out of HTML
  await devices.get(ID(1))?.report(HOST, [PIN_B]);
  await devices.get(ID(2))?.report(HOST, [pin('rogue')], 'mismatch');
  await devices.get(XSS_DEVICE)?.report(XSS_HOST, [PIN_A]);
  await vi.waitFor(async () => {
    const r = (await real.call('GET', `/api/rollouts/${rollout}`, real.admin)).body;
    expect(r.executions.byKind).toMatchObject({ VERIFIED: 5, DELIVERED: 2, QUEUED: 1 });
    expect((await real.call('GET', '/api/reports', real.admin)).body.length).toBe(3);
  }, { timeout: 15_000 });
});

afterAll(async () => {
  await real?.stop();
});

const PAGES = () => ['/', '/rollouts', `/rollouts/${rollout}`, `/rollouts/${rollout}/abort`, '/devices', `/devices/${ID(1)}`, '/telemetry', '/audit'];

describe('log-in', () => {
  it('every page redirects to /login without a session, keeping where the operator was going', async () => {
    const app = real.gw.api;
    for (const path of PAGES()) {
      const res = await app.request(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    expect((await app.request('/events')).status).toBe(401);
    const post = await app.request(`/rollouts/${rollout}/pause`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: formBody({ _csrf: 'x' }) });
    expect(post.status).toBe(401);
  });

  it('accepts a token the API accepts and sets an HttpOnly SameSite=Strict cookie (no Secure over plain HTTP)', async () => {
    const app = real.gw.api;
    const page = await app.request('/login?next=/devices');
    const html = await page.text();
    expect(html).toContain('name="token"');
    const res = await app.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: cookiesOf(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrfOf(html), token: operator, next: '/devices' }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/devices');
    const session = res.headers.getSetCookie().find((c) => c.startsWith('pgw_session='));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\//);
    expect(session).not.toMatch(/Secure/);
  });

  it('uses a Secure __Host- cookie when secureCookies is set', async () => {
    const app = real.dashboard({ secureCookies: true });
    const page = await app.request('/login');
    expect(page.headers.getSetCookie()[0]).toMatch(/^__Host-pgw_login=.*Secure/);
    const res = await app.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: cookiesOf(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrfOf(await page.text()), token: operator }),
    });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('__Host-pgw_session='));
    expect(session).toMatch(/Secure/);
    expect(session).toMatch(/HttpOnly/);
  });

  it('refuses a wrong token, a missing form token, a foreign origin, and an open redirect', async () => {
    const app = real.gw.api;
    const page = await app.request('/login');
    const cookie = cookiesOf(page);
    const csrf = csrfOf(await page.text());
    const post = (fields: Record<string, string>, origin = ORIGIN) =>
      app.request('/login', { method: 'POST', headers: { origin, cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: formBody(fields) });
    const wrong = await post({ _csrf: csrf, token: 'pgw_nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('did not accept this token');
    expect((await post({ token: operator })).status).toBe(403);
    expect((await post({ _csrf: csrf, token: operator }, 'https://evil.example')).status).toBe(403);
    const open = await post({ _csrf: csrf, token: operator, next: '//evil.example/x' });
    expect(open.headers.get('location')).toBe('/');
  });

  it('GET /login with a live session goes straight to the page asked for; logs out with the CSRF token', async () => {
    const s = await login(real.gw.api, operator);
    const again = await s.get('/login?next=%2Faudit');
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/audit');
    expect((await s.post('/logout', {})).status).toBe(403);
    const out = await s.post('/logout');
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await s.get('/')).status).toBe(303);
  });

  it('drops the session as soon as the gateway stops accepting its token (revoked)', async () => {
    const temp = await real.token('tess', 'viewer');
    const s = await login(real.gw.api, temp);
    expect((await s.get('/rollouts')).status).toBe(200);
    expect((await real.call('POST', '/api/tokens/tess/revoke', real.admin, {})).status).toBe(200);
    const res = await s.get('/rollouts');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('expires idle sessions by the injected clock', async () => {
    let now = Date.now();
    const app = real.dashboard({ clock: { now: () => now } });
    const s = await login(app, viewer);
    expect((await s.get('/audit')).status).toBe(200);
    now += 9 * 3_600_000;
    expect((await s.get('/audit')).status).toBe(303);
  });
});

describe('pages', () => {
  it('fleet overview: coverage bars toward the target, the rotation gate with at-risk count, online/offline, seq', async () => {
    const s = await login(real.gw.api, viewer);
    const res = await s.get('/');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    const html = await res.text();
    expect(html).toContain('thermostats');
    expect(html).toContain(HOST);
    expect(html).toMatch(/class="stat-online">7</);
    expect(html).toMatch(/class="stat-offline">1</);
    expect(html).toMatch(/class="stat-seq">\d+</);
    // PIN_C: 5 of 8 verified set 2 = 62.5 %, not ready, 3 devices at risk
    const row = html.slice(html.indexOf(`data-pin="${PIN_C}"`));
    expect(row).toMatch(/data-gate="not-ready"/);
    expect(row).toMatch(/3 devices(<!-- -->)? at risk/);
    expect(row).toContain('62.5 %');
    expect(html).toMatch(/<line class="bar-target" x1="95.00"/);
  });

  it('rollouts list and detail: waves per execution state, gates, actions for operators', async () => {
    const s = await login(real.gw.api, operator);
    expect(await (await s.get('/rollouts')).text()).toContain(`href="/rollouts/${rollout}"`);
    const html = await (await s.get(`/rollouts/${rollout}`)).text();
    expect(html).toContain('canary');
    expect(html).toContain('delivered 2');
    expect(html).toContain('Success gate');
    expect(html).toContain(`action="/rollouts/${rollout}/pause"`);
    expect(html).toContain(`href="/rollouts/${rollout}/abort"`);
    expect(html).toContain(`action="/rollouts/${rollout}/advance"`);
  });

  it('viewers see no action buttons, and their forged POSTs are refused by the gateway (which audits them)', async () => {
    const s = await login(real.gw.api, viewer);
    const html = await (await s.get(`/rollouts/${rollout}`)).text();
    expect(html).not.toContain(`action="/rollouts/${rollout}/`);
    expect(html).toContain('Read-only');
    for (const action of ['pause', 'abort', 'advance', 'resume', 'retry-failed', 'start']) {
      const res = await s.post(`/rollouts/${rollout}/${action}`, { _csrf: s.csrf, confirm: 'abort', reason: 'forged' });
      expect(res.status, action).toBe(303);
      expect(res.headers.get('location')).toBe(`/rollouts/${rollout}`);
      const page = await real.gw.api.request(`/rollouts/${rollout}`, { headers: { cookie: `${s.cookie}; ${cookiesOf(res)}` } });
      expect(await page.text()).toContain('Not allowed for your role');
    }
    expect((await s.get(`/rollouts/${rollout}/abort`)).status).toBe(403);
    expect(await rolloutState(rollout)).toBe('RUNNING');
    const refused = (await real.call('GET', `/api/audit?actor=victor&action=access.refused`, real.admin)).body.items;
    expect(refused.length).toBe(6);
  });

  it('refuses a POST without the CSRF token, with a wrong one, or from another origin; pauses with one that is right', async () => {
    const id = await newRollout();
    await real.call('POST', `/api/rollouts/${id}/start`, operator, {});
    const s = await login(real.gw.api, operator);
    const path = `/rollouts/${id}/pause`;
    expect((await s.post(path, {})).status).toBe(403);
    expect((await s.post(path, { _csrf: 'x'.repeat(s.csrf.length) })).status).toBe(403);
    expect((await s.post(path, { _csrf: s.csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await rolloutState(id)).toBe('RUNNING');
    const ok = await s.post(path, { _csrf: s.csrf, reason: 'checking mismatches' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/rollouts/${id}`);
    expect(await rolloutState(id)).toBe('PAUSED');
    const html = await (await real.gw.api.request(`/rollouts/${id}`, { headers: { cookie: `${s.cookie}; ${cookiesOf(ok)}` } })).text();
    expect(html).toContain('Rollout paused.');
    expect(html).toContain('by an operator: checking mismatches');
    expect(html).toContain(`action="/rollouts/${id}/resume"`);
    const pause = (await real.call('GET', `/api/audit?target=${id}&action=rollout.pause`, real.admin)).body.items;
    expect(pause.map((e: { actor: string; detail: { reason?: string } }) => [e.actor, e.detail.reason])).toEqual([['olivia', 'checking mismatches']]);
  });

  it('abort needs the confirmation step; an illegal transition shows the gateway\'s 409; unknown rollouts and actions are 404', async () => {
    const id = await newRollout();
    const s = await login(real.gw.api, operator);
    const illegal = await s.post(`/rollouts/${id}/resume`);
    expect(illegal.headers.get('location')).toBe(`/rollouts/${id}`);
    const page = await real.gw.api.request(`/rollouts/${id}`, { headers: { cookie: `${s.cookie}; ${cookiesOf(illegal)}` } });
    expect(await page.text()).toMatch(/alert-error notice"[^>]*>The gateway refused to resume: /);
    const direct = await s.post(`/rollouts/${id}/abort`);
    expect(direct.headers.get('location')).toBe(`/rollouts/${id}/abort`);
    expect(await rolloutState(id)).toBe('DRAFT');
    expect(await (await s.get(`/rollouts/${id}/abort`)).text()).toContain('name="confirm" value="abort"');
    expect((await s.post(`/rollouts/${id}/abort`, { _csrf: s.csrf, confirm: 'abort', reason: 'wrong pins' })).status).toBe(303);
    expect(await rolloutState(id)).toBe('ABORTED');
    expect((await s.get('/rollouts/nope')).status).toBe(404);
    expect((await s.post(`/rollouts/${id}/explode`)).status).toBe(404);
  });

  it('devices: filters go to the API, the device page shows history', async () => {
    const s = await login(real.gw.api, viewer);
    const rows = (html: string) => [...html.matchAll(/<tr data-device="([^"]+)"/g)].map((m) => m[1]);
    expect(rows(await (await s.get('/devices?fleet=thermostats&online=true&deviceClass=th-basic')).text())).toEqual([1, 2, 4, 5, 6, 7].map(ID));
    expect(rows(await (await s.get('/devices?fleet=thermostats&online=false')).text())).toEqual([ID(3)]);
    expect(rows(await (await s.get('/devices?deviceClass=th-pro')).text())).toEqual([ID(0)]);
    expect(rows(await (await s.get('/devices?q=thermo-00')).text())).toHaveLength(8);
    const detail = await (await s.get(`/devices/${ID(1)}`)).text();
    expect(detail).toContain('History');
    expect(detail).toContain(`report ${HOST}:443`);
    expect((await s.get('/devices/nope')).status).toBe(404);
  });

  it('escapes every device-supplied string (firmware <script>, a host name breaking out of HTML) on every page that shows it', async () => {
    const s = await login(real.gw.api, operator);
    for (const path of ['/devices?fleet=thermostats', `/devices/${XSS_DEVICE}`, '/devices?q=thermo-007']) {
      const html = await (await s.get(path)).text();
      expect(html, path).toContain('&lt;script&gt;window.__xss=1&lt;/script&gt;');
      expect(html, path).not.toContain(XSS_FIRMWARE);
    }
    for (const path of ['/telemetry', `/devices/${XSS_DEVICE}`]) {
      const html = await (await s.get(path)).text();
      expect(html, path).toContain('evil&quot;&gt;&lt;img src=x onerror=window.__xss=2&gt;');
      expect(html, path).not.toContain(XSS_HOST);
      expect(html, path).not.toContain('<img');
    }
  });

  it('telemetry: an inline SVG chart of ok / mismatch / fail-open, and the last reports with served pins', async () => {
    const s = await login(real.gw.api, viewer);
    const html = await (await s.get('/telemetry?window=6h')).text();
    expect(html).toContain('<svg viewBox="0 0 800 260"');
    expect(html).toContain('series-mismatch');
    expect(html).toContain('series-fail-open');
    expect(html).toMatch(/<span class="badge badge-bad">mismatch<\/span>/);
    expect(html).toContain(PIN_B.slice(0, 20));
  });

  it('audit log lists entries', async () => {
    const s = await login(real.gw.api, viewer);
    const html = await (await s.get('/audit')).text();
    expect(html).toContain('rollout.start');
    expect(html).toContain('olivia');
  });

  it('serves its own assets without a session, and leaves /api alone when mounted at /', async () => {
    const app = real.gw.api;
    for (const [path, type] of [
      ['/assets/live.js', 'text/javascript'],
      ['/assets/dashboard.css', 'text/css'],
      ['/assets/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
    expect((await app.request('/assets/nope.js')).status).toBe(404);
    const api = await app.request('/api/fleets', { headers: { authorization: `Bearer ${viewer}` } });
    expect(api.status).toBe(200);
    expect(api.headers.get('content-security-policy')).toBeNull();
    expect((await app.request('/api/fleets')).status).toBe(401);
  });
});
