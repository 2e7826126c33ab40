/**
 * The dashboard in a real browser (Debian's chromium, playwright-core) on the REAL gateway (real-harness.ts, one for
 * the file) with devices over MQTT: hostile device strings stay text on every page, also after a live patch;
 * viewers get no buttons and a forged POST is refused; operators confirm before advancing or aborting. The live
 * rollout story (progress, pause, the gate flipping to ready) is real-gateway.test.ts. Every wait is for a condition.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MqttDevice } from './mqtt-device';
import { launchChromium, startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C, XSS_FIRMWARE, XSS_HOST } from './scenario';

let real: RealGateway;
let browser: Browser;
let operator = '';
let viewer = '';
const pumps: MqttDevice[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  viewer = await real.token('victor', 'viewer');
  for (let i = 0; i < 3; i++) pumps.push(await real.device(operator, `pump-${i}`, 'pumps', i === 2 ? XSS_FIRMWARE : '3.1.0'));
  await pumps[2]?.report(XSS_HOST, [PIN_A]);
  await vi.waitFor(async () => expect((await real.call('GET', '/api/reports', real.admin)).body.length).toBe(1));
  browser = await launchChromium();
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});

afterAll(async () => {
  await browser?.close();
  await real?.stop();
});

async function open(token: string, path: string): Promise<{ page: Page; cspErrors: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  await page.goto(real.url + path);
  await page.waitForURL(/\/login/);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return { page, cspErrors };
}

const live = (page: Page) => page.waitForSelector('#live-status.live-on');
const xss = (page: Page) => page.evaluate('window.__xss');

async function draftRollout(): Promise<string> {
  const set = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'pumps' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_B, PIN_C], enforce: true }] });
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: set.body.id, plan: { waves: [{ limit: { count: 1 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 3_600_000 } });
  return String(created.body.id);
}

describe('dashboard in chromium (real gateway)', () => {
  it('a device whose firmware is <script>… and a host name breaking out of HTML stay text, also after a live patch', async () => {
    const { page, cspErrors } = await open(operator, '/devices?fleet=pumps');
    await page.waitForSelector('tr[data-device="pump-2"]');
    expect(await page.textContent('tr[data-device="pump-2"] td.firmware')).toBe(XSS_FIRMWARE);
    expect(await page.locator('#device-list script').count()).toBe(0);
    await live(page);
    // a real change on the gateway: pump-1 goes offline, the list is patched live
    await pumps[1]?.end();
    await page.waitForSelector('tr[data-device="pump-1"] .badge:has-text("offline")');
    expect(await page.textContent('tr[data-device="pump-2"] td.firmware')).toBe(XSS_FIRMWARE);
    expect(await xss(page)).toBeUndefined();
    for (const path of ['/devices/pump-2', '/telemetry']) {
      await page.goto(real.url + path);
      await page.waitForSelector('main h1');
      expect(await page.locator('main img, main script').count(), path).toBe(0);
      expect(await xss(page), path).toBeUndefined();
      expect(await page.textContent('main'), path).toContain(XSS_HOST);
    }
    expect(cspErrors).toEqual([]);
  });

  it('viewers get no action buttons and a forged POST is refused; operators confirm before advancing or aborting', async () => {
    const id = await draftRollout();
    expect((await real.call('POST', `/api/rollouts/${id}/start`, operator, {})).status).toBe(200);
    const { page } = await open(viewer, `/rollouts/${id}`);
    await page.waitForSelector('.read-only');
    expect(await page.locator(`form[action^="/rollouts/${id}/"]`).count()).toBe(0);
    const answer = await page.evaluate(`(async () => {
      const csrf = document.querySelector('input[name="_csrf"]').value;
      const res = await fetch('/rollouts/${id}/pause', { method: 'POST', body: new URLSearchParams({ _csrf: csrf }) });
      return { url: new URL(res.url).pathname, text: await res.text() };
    })()`);
    // post/redirect/get back to the rollout, the gateway's refusal shown as an error
    expect(answer).toMatchObject({ url: `/rollouts/${id}` });
    expect((answer as { text: string }).text).toContain('Not allowed for your role');
    const state = async () => (await real.call('GET', `/api/rollouts/${id}`, operator)).body.state.kind as string;
    expect(await state()).toBe('RUNNING');

    const { page: op } = await open(operator, `/rollouts/${id}`);
    op.once('dialog', (d) => void d.dismiss());
    await op.fill('form[action$="/advance"] input[name="reason"]', 'offline canary');
    await op.click('form[action$="/advance"] button');
    await op.waitForSelector('[data-rollout-state="RUNNING"]');
    expect((await real.call('GET', `/api/audit?target=${id}&action=rollout.advance`, real.admin)).body.items).toEqual([]);

    await op.click(`a[href="/rollouts/${id}/abort"]`);
    await op.waitForSelector('h1:has-text("Abort rollout")');
    expect(await state()).toBe('RUNNING');
    await op.fill('#reason', 'wrong backup pin');
    await op.click('button.btn-danger');
    await op.waitForSelector('[data-rollout-state="ABORTED"]');
    expect(await state()).toBe('ABORTED');
  });
});
