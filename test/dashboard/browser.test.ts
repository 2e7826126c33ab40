/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (never a downloaded browser),
 * against the dashboard mounted next to the fake gateway API over real HTTP. Every wait is for a condition on the
 * page, never for a time.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeGateway } from './fake-gateway';
import { launchChromium } from './real-harness';
import { mounted, OPERATOR, PIN_C, ROLLOUT, scenario, VIEWER, XSS_FIRMWARE } from './scenario';

/** docs/screenshots/ come from the real gateway now (screenshots.test.ts); this fake-backed test takes none. */
const shoot = async (_page: Page, _name: string, _fullPage = true) => undefined;

let browser: Browser;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await browser?.close();
});

/** A fresh fake gateway + dashboard on a real port, and a fresh browser context (own cookies). */
async function start(g: FakeGateway = scenario()): Promise<{ g: FakeGateway; base: string; page: Page; ctx: BrowserContext; cspErrors: string[] }> {
  const app = mounted(g);
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  cleanups.push(async () => {
    await ctx.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { g, base, page, ctx, cspErrors };
}

async function logIn(page: Page, base: string, token: string, path = '/'): Promise<void> {
  await page.goto(base + path);
  await page.waitForURL(/\/login/);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** The page's live-update stream is connected. */
const live = (page: Page) => page.waitForSelector('#live-status.live-on');

/** Marks the document; the mark survives fragment patches but not a reload or navigation. */
// In-page code is given as strings (the project's tsconfig has no DOM lib); waits use selectors, since the CSP
// forbids the eval that a string waitForFunction needs.
const mark = (page: Page) => page.evaluate("window.__mark = 'same-document'");
const marked = (page: Page) => page.evaluate('window.__mark');

const gateOf = (page: Page, pin: string) =>
  page.locator(`tr[data-pin="${pin}"] [data-gate]`).first().getAttribute('data-gate');

describe('dashboard in chromium', () => {
  it('log in, watch a rollout progress live, pause it, see the rotation gate flip to ready', async () => {
    const { g, base, page, cspErrors } = await start();
    await logIn(page, base, OPERATOR);
    await page.waitForSelector('h1:has-text("Fleet overview")');
    expect(await gateOf(page, PIN_C)).toBe('not-ready');
    await shoot(page, 'overview.png');

    // The rollout progresses while the operator watches: the page follows without a reload.
    await page.click(`a[href="/rollouts/${ROLLOUT}"]`);
    await page.waitForSelector('[data-rollout-state="RUNNING"]');
    await live(page);
    await mark(page);
    expect(await page.textContent('.verified-count')).toBe('2');
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'APPLIED'), 'VERIFIED');
    await page.waitForSelector('.verified-count:text-is("12")');
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'DELIVERED').slice(0, 20), 'APPLIED');
    await page.waitForSelector('tr[data-wave="1"] .wave-counts:has-text("applied 20")');
    expect(await marked(page)).toBe('same-document');
    await shoot(page, 'rollout-detail.png');

    // Pause it, with a reason.
    await page.fill('input[name="reason"]', 'hold: reviewing mismatch reports');
    await page.click('form[action$="/pause"] button');
    await page.waitForSelector('[data-rollout-state="PAUSED"]');
    expect(await page.textContent('.pause-reason')).toContain('by an operator: hold: reviewing mismatch reports');
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('PAUSED');
    expect(await page.isVisible(`form[action$="/resume"] button`)).toBe(true);

    // Devices that already applied the set still verify; the overview's rotation gate flips to ready live.
    await page.click('nav a[href="/"]');
    await page.waitForSelector('h1:has-text("Fleet overview")');
    await live(page);
    await mark(page);
    expect(await gateOf(page, PIN_C)).toBe('not-ready');
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'APPLIED'), 'VERIFIED');
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'DELIVERED').slice(0, 6), 'VERIFIED');
    await page.waitForSelector(`tr[data-pin="${PIN_C}"] [data-gate="ready"]`);
    expect(await page.textContent(`tr[data-pin="${PIN_C}"] .coverage-pct`)).toBe('95 %');
    expect(await marked(page)).toBe('same-document');
    await shoot(page, 'overview-ready.png');
    expect(cspErrors).toEqual([]);
  });

  it('a device whose firmware is <script>… does not run script, also after a live patch', async () => {
    const { g, base, page, cspErrors } = await start();
    await logIn(page, base, OPERATOR, '/devices?fleet=thermostats&limit=50');
    await page.waitForSelector('h1:has-text("Devices")');
    const xss = () => page.evaluate('window.__xss');
    expect(await page.textContent('tr[data-device="thermo-039"] td.firmware')).toBe(XSS_FIRMWARE);
    expect(await page.locator('#device-list script').count()).toBe(0);
    expect(await xss()).toBeUndefined();
    await shoot(page, 'devices.png', false);

    await live(page);
    g.emit('device', { deviceId: 'thermo-039' });
    await page.waitForSelector('body[data-live-version]', { state: 'attached' });
    expect(await page.textContent('tr[data-device="thermo-039"] td.firmware')).toBe(XSS_FIRMWARE);
    expect(await xss()).toBeUndefined();

    for (const path of ['/devices/thermo-039', '/telemetry']) {
      await page.goto(base + path);
      await page.waitForSelector('main h1');
      expect(await page.locator('main img, main script').count()).toBe(0);
      expect(await xss(), path).toBeUndefined();
    }
    expect(await page.textContent('main')).toContain('evil"><img src=x onerror=window.__xss=2>');
    await shoot(page, 'telemetry.png');
    expect(cspErrors).toEqual([]);
  });

  it('viewers get no action buttons and a forged POST is refused; operators confirm before advancing or aborting', async () => {
    const { g, base, page, ctx } = await start();
    await logIn(page, base, VIEWER, `/rollouts/${ROLLOUT}`);
    await page.waitForSelector('.read-only');
    expect(await page.locator(`form[action^="/rollouts/${ROLLOUT}/"]`).count()).toBe(0);
    const answer = await page.evaluate(`(async () => {
      const csrf = document.querySelector('input[name="_csrf"]').value;
      const res = await fetch('/rollouts/${ROLLOUT}/pause', { method: 'POST', body: new URLSearchParams({ _csrf: csrf }) });
      return { url: new URL(res.url).pathname, text: await res.text() };
    })()`);
    // post/redirect/get back to the rollout, the gateway's refusal shown as an error
    expect(answer).toMatchObject({ url: `/rollouts/${ROLLOUT}` });
    expect((answer as { text: string }).text).toContain('Not allowed for your role');
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('RUNNING');

    const op = await ctx.browser()?.newContext();
    if (!op) throw new Error('no context');
    cleanups.push(() => op.close());
    const page2 = await op.newPage();
    await logIn(page2, base, OPERATOR, `/rollouts/${ROLLOUT}`);
    page2.once('dialog', (d) => void d.dismiss());
    await page2.fill('form[action$="/advance"] input[name="reason"]', 'offline canary');
    await page2.click('form[action$="/advance"] button');
    await page2.waitForSelector('[data-rollout-state="RUNNING"]');
    expect(g.audit.some((e) => e.action === 'rollout.advance')).toBe(false);

    await page2.click(`a[href="/rollouts/${ROLLOUT}/abort"]`);
    await page2.waitForSelector('h1:has-text("Abort rollout")');
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('RUNNING');
    await page2.fill('#reason', 'wrong backup pin');
    await page2.click('button.btn-danger');
    await page2.waitForSelector('[data-rollout-state="ABORTED"]');
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('ABORTED');
  });
});
