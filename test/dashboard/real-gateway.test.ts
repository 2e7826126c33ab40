/**
 * The dashboard on the REAL gateway (real-harness.ts: startGateway with a temp data dir and ports 0, dashboard
 * mounted on its app as start.ts should). Real tokens, real enrolment, real devices over MQTT (one whose hello
 * carries a hostile firmware string), real rollouts, coverage and event stream, and chromium.
 * Devices hold their acks until the test releases them, so every step waits for a condition, never for a time.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookiesOf, csrfOf, formBody, login, ORIGIN } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { launchChromium, startRealGateway, until, type RealGateway, logIn as logInAt } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C, XSS_FIRMWARE } from './scenario';

let real: RealGateway;
let browser: Browser;
const tokens = { operator: '', viewer: '' };
const credentials = new Map<string, string>();

const pinset = (fleet: string, pins: string[]) => ({
  target: { fleet },
  hosts: [{ name: HOST, includeSubdomains: false, pins, enforce: true }],
});

const logIn = (page: Page, path: string, token: string) => logInAt(page, real.url, path, token);

beforeAll(async () => {
  real = await startRealGateway();
  tokens.operator = await real.token('olivia', 'operator');
  tokens.viewer = await real.token('victor', 'viewer');
  for (const id of ['therm-1', 'therm-2', 'therm-xss']) credentials.set(id, await real.enrol(tokens.operator, id, 'thermostats'));
  await real.connect('therm-xss', credentials.get('therm-xss') ?? '', 'thermostats', XSS_FIRMWARE);
  await until(async () => (await real.call('GET', '/api/devices/therm-xss', tokens.viewer)).body?.firmware === XSS_FIRMWARE);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await real?.stop();
});

describe('dashboard on the real gateway', () => {
  it('app.request(): real tokens log in with their name and role, the API stays JSON, pages render real data', async () => {
    const app = real.gw.api;
    const page = await app.request('/login');
    const bad = await app.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: cookiesOf(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrfOf(await page.text()), token: 'pgw_not-a-token' }),
    });
    expect(bad.status).toBe(401);
    const op = await login(app, tokens.operator);
    expect(await (await op.get('/')).text()).toMatch(/olivia <span class="badge badge-role-operator">/);
    const viewer = await login(app, tokens.viewer);
    expect(await (await viewer.get('/')).text()).toMatch(/victor <span class="badge badge-role-viewer">/);
    const audit = await (await viewer.get('/audit')).text();
    expect(audit).toContain('device.enrol');
    expect(audit).toContain('token.create');
    const devices = await (await viewer.get('/devices?fleet=thermostats')).text();
    expect(devices).toContain('&lt;script&gt;window.__xss=1&lt;/script&gt;');
    expect(devices).not.toContain(XSS_FIRMWARE);
    const refused = await viewer.get(`/devices?deviceClass=${'x'.repeat(200)}`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('The gateway refused this filter');
    expect((await viewer.get('/telemetry')).status).toBe(200);
    const apiRes = await app.request('/api/fleets', { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(apiRes.headers.get('content-type')).toContain('application/json');
    expect((await app.request('/api/fleets')).status).toBe(401);
  });

  it('chromium: the device list follows live as a device connects and verifies a released set; hostile firmware stays text', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await ctx.newPage();
    try {
      await logIn(page, '/devices?fleet=thermostats', tokens.operator);
      await page.waitForSelector('h1:has-text("Devices")');
      expect(await page.textContent('tr[data-device="therm-xss"] td.firmware')).toBe(XSS_FIRMWARE);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      expect(await page.textContent('tr[data-device="therm-1"] .badge')).toBe('offline');
      await page.waitForSelector('#live-status.live-on');
      await page.evaluate("window.__mark = 'same-document'");
      await real.connect('therm-1', credentials.get('therm-1') ?? '', 'thermostats', '3.1.4');
      await page.waitForSelector('tr[data-device="therm-1"] .badge:text-is("online")');
      // presence (the connection) and the hello (firmware) are two events: the row follows both, in either order
      await page.waitForSelector('tr[data-device="therm-1"] td.firmware:text-is("3.1.4")');

      const published = await real.call('POST', '/api/pinsets', real.admin, pinset('thermostats', [PIN_A, PIN_B]));
      expect(published.status).toBe(201);
      expect((await real.call('POST', `/api/pinsets/${published.body.id}/deliver`, tokens.operator, {})).status).toBe(200);
      await page.waitForSelector('tr[data-device="therm-1"] .verified-seq:text-is("1")');
      await page.waitForSelector('tr[data-device="therm-xss"] .verified-seq:text-is("1")');
      expect(await page.textContent('tr[data-device="therm-2"] .verified-seq')).toBe('0');
      expect(await page.evaluate('window.__mark')).toBe('same-document');
      expect(await page.evaluate('window.__xss')).toBeUndefined();

      await page.goto(`${real.url}/devices/therm-xss`);
      await page.waitForSelector('main h1');
      expect(await page.locator('main script, main img').count()).toBe(0);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
    } finally {
      await ctx.close();
    }
  });

  it('chromium: log in, watch a rollout progress live, pause it, see the rotation gate flip to ready', async () => {
    // fleet "meters": 20 devices verified seq 1 (A+B); a rollout of seq 2 (B+C) runs canary (2) → rest (18)
    const N = 20;
    const meters: MqttDevice[] = [];
    meters.push(
      ...(await Promise.all(
        Array.from({ length: N }, (_, i) => real.device(tokens.operator, `meter-${String(i).padStart(2, '0')}`, 'meters', '1.9.0')),
      )),
    );
    const seq1 = await real.call('POST', '/api/pinsets', real.admin, pinset('meters', [PIN_A, PIN_B]));
    expect((await real.call('POST', `/api/pinsets/${seq1.body.id}/deliver`, tokens.operator, {})).status).toBe(200);
    await until(() => meters.every((d) => d.verified.length === 1));
    for (const d of meters) d.hold = true;
    const seq2 = await real.call('POST', '/api/pinsets', real.admin, pinset('meters', [PIN_B, PIN_C]));
    const created = await real.call('POST', '/api/rollouts', tokens.operator, {
      pinsetId: seq2.body.id,
      plan: { waves: [{ name: 'canary', limit: { count: 2 } }, { name: 'rest', limit: { percent: 100 } }] },
      gates: { soakMs: 0 },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    expect((await real.call('POST', `/api/rollouts/${id}/start`, tokens.operator, {})).status).toBe(200);

    const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await ctx.newPage();
    const pending = () => meters.filter((d) => d.pending.length > 0).length;
    const gateC = () => page.getAttribute(`[data-fleet="meters"] tr[data-pin="${PIN_C}"] [data-gate]`, 'data-gate');
    try {
      await logIn(page, '/', tokens.operator);
      await page.waitForSelector('h1:has-text("Fleet overview")');
      expect(await gateC()).toBe('not-ready');

      await page.click(`a[href="/rollouts/${encodeURIComponent(id)}"]`);
      await page.waitForSelector('#live-status.live-on');
      await page.evaluate("window.__mark = 'same-document'");
      await until(() => pending() === 2);
      await page.waitForSelector('tr[data-wave="0"] .wave-counts:has-text("delivered 2")');
      for (const d of meters) await d.release();
      await page.waitForSelector('.verified-count:text-is("2")');
      await until(() => pending() === N - 2);
      await page.waitForSelector('tr[data-wave="1"] .wave-counts:has-text("delivered 18")');
      expect(await page.evaluate('window.__mark')).toBe('same-document');

      // pause: nothing more is sent, but devices that already got the set still verify it
      await page.fill('input[name="reason"]', 'hold: checking the canary reports');
      await page.click('form[action$="/pause"] button');
      await page.waitForSelector('[data-rollout-state="PAUSED"]');
      expect(await page.textContent('.pause-reason')).toContain('hold: checking the canary reports');
      if (process.env['UPDATE_SCREENSHOTS'] === '1') {
        await page.screenshot({ path: new URL('../../docs/screenshots/rollout-paused-real-gateway.png', import.meta.url).pathname, fullPage: true });
      }

      await page.click('nav a[href="/"]');
      await page.waitForSelector('#live-status.live-on');
      await page.evaluate("window.__mark = 'same-document'");
      expect(await gateC()).toBe('not-ready');
      for (const d of meters.filter((m) => m.pending.length > 0).slice(0, 17)) await d.release(); // 2 + 17 = 19/20 = 95 %
      await page.waitForSelector(`[data-fleet="meters"] tr[data-pin="${PIN_C}"] [data-gate="ready"]`);
      expect(await page.textContent(`[data-fleet="meters"] tr[data-pin="${PIN_C}"] .coverage-pct`)).toBe('95 %');
      expect(await page.textContent(`[data-fleet="meters"] tr[data-pin="${PIN_C}"] .gate`)).toContain('1 device at risk');
      expect(await page.evaluate('window.__mark')).toBe('same-document');
      expect((await real.call('GET', `/api/rollouts/${id}`, tokens.operator)).body.state.kind).toBe('PAUSED');
    } finally {
      await ctx.close();
    }
  });
});
