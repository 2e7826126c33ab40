/**
 * Issue 15 in chromium on the REAL gateway: at phone width (390 × 844) no page scrolls sideways and the columns
 * that matter are on screen; status badges and text reach WCAG AA contrast (4.5:1), the focus ring 3:1; a skip
 * link is the first stop of the keyboard; the log-in field has the focus.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium, startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B } from './scenario';

let real: RealGateway;
let browser: Browser;
let operator = '';
let rollout = '';

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  for (let i = 0; i < 3; i++) await real.device(operator, `bulb-${i}`, 'bulbs-with-a-long-fleet-name', '4.2.0-beta.1+build.20260101');
  const set = await real.call('POST', '/api/pinsets', real.admin, {
    target: { fleet: 'bulbs-with-a-long-fleet-name' },
    hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }],
  });
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: set.body.id, gates: { soakMs: 0 } });
  rollout = String(created.body.id);
  if (created.status !== 201) throw new Error(`rollout: ${created.status} ${JSON.stringify(created.body)}`);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await real?.stop();
});

/** WCAG 2.1 contrast ratio of two CSS colours (rgb()/rgba() as computed by the browser), alpha over white. */
const CONTRAST = `(() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); const a = m[3] ?? 1; return m.slice(0, 3).map((v) => v * a + 255 * (1 - a)); };
  const lum = (rgb) => { const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  window.__contrast = (fg, bg) => { const [a, b] = [lum(parse(fg)), lum(parse(bg))].sort((x, y) => y - x); return (a + 0.05) / (b + 0.05); };
})()`;

async function logIn(page: Page, path: string): Promise<void> {
  await page.goto(real.url + path);
  await page.waitForURL(/\/login/);
  expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('token');
  await page.keyboard.type(operator);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

describe('phone width, contrast and keyboard on the real gateway (issue 15)', () => {
  it('no page scrolls sideways at 390 px; state and progress of a rollout are on screen', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    try {
      await logIn(page, '/');
      const pin = encodeURIComponent(PIN_B);
      for (const path of ['/', '/rollouts', `/rollouts/${rollout}`, '/devices', '/telemetry', '/audit', `/rotation?fleet=bulbs-with-a-long-fleet-name&host=${HOST}&pin=${pin}`, '/devices/bulb-0']) {
        await page.goto(real.url + path);
        await page.waitForSelector('main h1');
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, path).toBeLessThanOrEqual(0);
      }
      await page.goto(`${real.url}/rollouts`);
      // a live refresh may swap the table while it is measured: measure until the element is there
      for (const sel of [`tr[data-rollout="${rollout}"] .rollout-state`, `tr[data-rollout="${rollout}"] .progress`]) {
        await vi.waitFor(async () => {
          const box = await page.locator(sel).boundingBox();
          expect(box, sel).not.toBeNull();
          expect((box?.x ?? 0) + (box?.width ?? 0), sel).toBeLessThanOrEqual(390);
        });
      }
      await page.goto(`${real.url}/devices`);
      await vi.waitFor(async () => {
        const online = await page.locator('tr[data-device="bulb-0"] .badge').first().boundingBox();
        expect(online).not.toBeNull();
        expect((online?.x ?? 999) + (online?.width ?? 0)).toBeLessThanOrEqual(390);
      });
    } finally {
      await ctx.close();
    }
  });

  it('badges and muted text reach 4.5:1, the focus ring 3:1; the skip link comes first', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    try {
      await logIn(page, `/rollouts/${rollout}`);
      await page.evaluate(CONTRAST);
      await page.evaluate(`(() => {
        const box = document.createElement('div');
        for (const k of ['ok', 'warn', 'bad', 'info', 'muted']) { const b = document.createElement('span'); b.className = 'badge badge-' + k; b.textContent = k; box.append(b); }
        const m = document.createElement('span'); m.className = 'muted'; m.textContent = 'muted'; box.append(m);
        document.querySelector('main').append(box);
      })()`);
      const ratios = (await page.evaluate(`[...document.querySelectorAll('main .badge, main span.muted')].map((e) => {
        const s = getComputedStyle(e); let bg = s.backgroundColor; let p = e;
        while (/rgba\\(0, 0, 0, 0\\)/.test(bg) && p.parentElement) { p = p.parentElement; bg = getComputedStyle(p).backgroundColor; }
        return [e.className + ':' + e.textContent, window.__contrast(s.color, bg)];
      })`)) as [string, number][];
      expect(ratios.length).toBeGreaterThan(5);
      for (const [what, ratio] of ratios) expect(ratio, what).toBeGreaterThanOrEqual(4.5);

      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.className')).toBe('skip-link');
      const start = page.locator(`form[action="/rollouts/${rollout}/start"] button`);
      await start.focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab'); // keyboard focus: :focus-visible applies
      const ring = (await page.evaluate(`(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth, window.__contrast(s.outlineColor, getComputedStyle(document.querySelector('.panel')).backgroundColor)]; })()`)) as [string, string, number];
      expect(ring[0]).toBe('solid');
      expect(parseFloat(ring[1])).toBeGreaterThanOrEqual(2);
      expect(ring[2]).toBeGreaterThanOrEqual(3);
    } finally {
      await ctx.close();
    }
  });
});
