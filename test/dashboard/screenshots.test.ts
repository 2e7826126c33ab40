/**
 * docs/screenshots/ from the REAL gateway (issue 15), desktop 1400 × 900 and phone 390 × 844: three fleets of
 * simulated devices over MQTT, pin sets, three rollouts (one completed, one paused by its success gate's failures,
 * one held by its gate), device reports, an at-risk rotation gate; then the lifecycle pages (a kill switch, a drift
 * finding from a real TLS server serving an unpinned key, a CT finding from a real RFC 6962 test log, a guided
 * rotation plan) and a device decommissioned from its page. Runs only with UPDATE_SCREENSHOTS=1 (a normal test run
 * leaves docs/ untouched); what it shows is asserted, so a broken page cannot be photographed silently.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MqttDevice } from './mqtt-device';
import { launchChromium, startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C } from './scenario';
import { fetchServerPins } from '../../shared/index';
import { TestCtLog, TestPki, type CtCert } from '../support/ct-log';
import { startTlsServer } from '../support/tls';

const UPDATE = process.env['UPDATE_SCREENSHOTS'] === '1';
const DIR = new URL('../../docs/screenshots/', import.meta.url);

let real: RealGateway;
let browser: Browser;
let ctLog: TestCtLog | null = null;
/** The key api.example.com serves once the lifecycle screenshots start: logged in CT, pinned by no set. */
let renewed: CtCert;
/** Port of the real TLS server the gateway's probes reach for HOST; null = unreachable (the pin sets' live check). */
let tlsPort: number | null = null;
let tls: Awaited<ReturnType<typeof startTlsServer>> | null = null;
let operator = '';
const byFleet = new Map<string, MqttDevice[]>();

async function fleet(name: string, n: number, firmware: string): Promise<MqttDevice[]> {
  const ds: MqttDevice[] = [];
  for (let i = 0; i < n; i++) ds.push(await real.device(operator, `${name.slice(0, 5)}-${String(i).padStart(3, '0')}`, name, firmware));
  byFleet.set(name, ds);
  return ds;
}

const set = (fleetName: string, pins: string[]) => ({ target: { fleet: fleetName }, hosts: [{ name: HOST, includeSubdomains: false, pins, enforce: true }] });

async function rollout(fleetName: string, pins: string[], body: Record<string, unknown>): Promise<string> {
  const p = await real.call('POST', '/api/pinsets', real.admin, set(fleetName, pins));
  const r = await real.call('POST', '/api/rollouts', operator, { pinsetId: p.body.id, ...body });
  expect(r.status).toBe(201);
  const id = String(r.body.id);
  expect((await real.call('POST', `/api/rollouts/${id}/start`, operator, {})).status).toBe(200);
  return id;
}

beforeAll(async () => {
  if (!UPDATE) return;
  mkdirSync(DIR, { recursive: true });
  const pki = new TestPki();
  renewed = pki.leaf([HOST], '1003');
  ctLog = new TestCtLog(pki, 2);
  ctLog.add(renewed);
  const logUrl = await ctLog.start();
  real = await startRealGateway({
    ctLogs: [logUrl],
    fetchServerPins: async (host, port, opts) => {
      if (host !== HOST || tlsPort === null) throw new Error(`${host}:${port} is not reachable from the test`);
      return fetchServerPins('127.0.0.1', tlsPort, { ...opts, servername: HOST });
    },
  });
  operator = await real.token('olivia', 'operator');
  const thermostats = await fleet('thermostats', 60, '3.2.1');
  const meters = await fleet('meters', 50, '1.9.0');
  const cameras = await fleet('cameras', 40, '7.0.2');
  // every fleet verified A+B (seq 1)
  for (const [name, ds] of byFleet) {
    const p = await real.call('POST', '/api/pinsets', real.admin, set(name, [PIN_A, PIN_B]));
    await real.call('POST', `/api/pinsets/${p.body.id}/deliver`, operator, {});
    await vi.waitFor(() => expect(ds.every((d) => d.verified.includes(1))).toBe(true), { timeout: 30_000 });
  }
  for (const d of [...thermostats, ...meters, ...cameras].slice(0, 40)) await d.report(HOST, [PIN_A]);
  // cameras: B+C completed
  await rollout('cameras', [PIN_B, PIN_C], { plan: { waves: [{ name: 'canary', limit: { count: 4 } }, { name: 'rest', limit: { percent: 100 } }] }, gates: { soakMs: 0 } });
  await vi.waitFor(() => expect(cameras.every((d) => d.verified.includes(2))).toBe(true), { timeout: 30_000 });
  // thermostats: held devices; the canary verifies, wave 2 half done → held by its success gate
  for (const d of thermostats) d.hold = true;
  const t = await rollout('thermostats', [PIN_B, PIN_C], {
    plan: { waves: [{ name: 'canary', limit: { count: 3 } }, { name: '25 %', limit: { percent: 25 } }, { name: 'half', limit: { percent: 50 } }, { name: 'rest', limit: { percent: 100 } }] },
    gates: { soakMs: 0, errorMinFinished: 1000 },
  });
  await vi.waitFor(() => expect(thermostats.filter((d) => d.pending.length > 0)).toHaveLength(3), { timeout: 30_000 });
  for (const d of thermostats) await d.release();
  await vi.waitFor(async () => expect((await real.call('GET', `/api/rollouts/${t}`, operator)).body.state.wave).toBe(1), { timeout: 30_000 });
  await vi.waitFor(() => expect(thermostats.filter((d) => d.pending.length > 0).length).toBeGreaterThan(10), { timeout: 30_000 });
  for (const d of thermostats.filter((x) => x.pending.length > 0).slice(0, 6)) await d.release();
  // meters: the canary's one refusal (E_WOULD_BRICK) means it can no longer pass its success gate: paused
  for (const d of meters) d.hold = true;
  const m = await rollout('meters', [PIN_B, PIN_C], { plan: { waves: [{ name: 'canary', limit: { count: 5 } }, { name: 'rest', limit: { percent: 100 } }] }, gates: { soakMs: 0 } });
  await vi.waitFor(() => expect(meters.filter((d) => d.pending.length > 0)).toHaveLength(5), { timeout: 30_000 });
  const canary = meters.filter((d) => d.pending.length > 0);
  for (const d of canary.slice(0, 3)) await d.release();
  await canary[3]?.reject('E_WOULD_BRICK');
  await vi.waitFor(async () => expect((await real.call('GET', `/api/rollouts/${m}`, operator)).body.state.kind).toBe('PAUSED'), { timeout: 30_000 });
  await vi.waitFor(async () => expect((await real.call('GET', '/api/rollouts/r2', operator)).body.executions.byKind.VERIFIED).toBe(9), { timeout: 30_000 });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await real?.stop();
  await tls?.close();
  await ctLog?.stop();
});

/** Logs a new browser context in as the operator at that viewport. */
async function operatorPage(viewport: { width: number; height: number }): Promise<{ page: Page; close(): Promise<void> }> {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  await page.goto(real.url + '/');
  await page.fill('#token', operator);
  await page.click('button[type=submit]');
  await page.waitForURL(`${real.url}/`);
  return { page, close: () => ctx.close() };
}

const noSidewaysScroll = (page: Page) => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');

async function shoot(page: Page, path: string, name: string, ready: string): Promise<void> {
  await page.goto(real.url + path);
  await page.waitForSelector(ready);
  await page.waitForSelector('#live-status.live-on, body[data-live-page="off"]');
  await page.screenshot({ path: new URL(name, DIR).pathname, fullPage: true });
}

describe('screenshots from the real gateway', () => {
  it.skipIf(!UPDATE)('desktop 1400 × 900 and phone 390 × 844', async () => {
    const rotation = `/rotation?fleet=thermostats&host=${HOST}&pin=${encodeURIComponent(PIN_C)}`;
    const pages: [string, string, string][] = [
      ['/', 'overview', '[data-fleet="thermostats"]'],
      ['/rollouts', 'rollouts', 'tr[data-rollout]'],
      ['/rollouts/r2', 'rollout-detail', '[data-rollout-state="RUNNING"] .gate-reason'],
      ['/rollouts/r3', 'rollout-paused', '[data-rollout-state="PAUSED"]'],
      ['/devices?fleet=thermostats&sort=lastSeen&order=desc', 'devices', 'tr[data-device]'],
      ['/devices?rollout=r3&execState=REJECTED', 'devices-rejected', 'tr[data-device]'],
      [rotation, 'rotation', '.risk-breakdown'],
      ['/pinsets', 'pinsets', 'tr[data-pinset]'],
      ['/rollouts/new', 'rollout-new', 'form.new-rollout'],
      ['/audit', 'audit', 'tr[data-action]'],
      ['/telemetry', 'telemetry', 'h1'],
    ];
    for (const [viewport, suffix] of [
      [{ width: 1400, height: 900 }, ''],
      [{ width: 390, height: 844 }, '-phone'],
    ] as const) {
      const ctx = await browser.newContext({ viewport });
      const page = await ctx.newPage();
      try {
        await page.goto(real.url + '/');
        await page.fill('#token', operator);
        await page.click('button[type=submit]');
        await page.waitForURL(`${real.url}/`);
        for (const [path, name, ready] of pages) {
          if (suffix === '-phone' && ['rollout-new', 'pinsets', 'audit', 'telemetry', 'devices-rejected'].includes(name)) continue;
          await shoot(page, path, `${name}${suffix}.png`, ready);
          expect(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), `${name}${suffix}`).toBeLessThanOrEqual(0);
        }
      } finally {
        await ctx.close();
      }
    }
  }, 240_000);

  it.skipIf(!UPDATE)('lifecycle (kill switch, drift and CT findings, guided rotation) and decommission, desktop and phone', async () => {
    // a guided rotation of HOST in thermostats from B to C, backup A, switch planned in a week; its first step
    const switchAt = Math.floor(Date.now() / 1000) + 7 * 86_400;
    const plan = await real.call('POST', '/api/rotation-plans', operator, { fleet: 'thermostats', host: HOST, current: PIN_B, next: PIN_C, backup: PIN_A, switchAt });
    expect(plan.status).toBe(201);
    expect((await real.call('POST', `/api/rotation-plans/${plan.body.id}/publish`, operator, {})).status).toBe(200);
    // the host is renewed with a key nobody pins: the drift watch sees it served, the CT watch sees it logged
    tls = await startTlsServer({ keyPem: renewed.keyPem, certPem: renewed.pem, dir: '' });
    tlsPort = tls.port;
    const drift = await real.call('POST', '/api/drift-watch/run', operator, {});
    expect(drift.body.raised).toBeGreaterThan(0);
    const ct = await real.call('POST', '/api/ct-watch/run', operator, {});
    expect(ct.body.raised).toBeGreaterThan(0);
    // a camera reports the unpinned key (a mismatch, classified "logged for our name")
    await byFleet.get('cameras')?.[0]?.report(HOST, [renewed.pin], 'mismatch');
    await vi.waitFor(async () => expect((await real.call('GET', '/api/ct-watch/mismatches', operator)).body).toHaveLength(1));
    // the cameras stop enforcing the host at once (kill switch), every online camera applies it
    const kill = await real.call('POST', '/api/kill-switch', operator, { fleet: 'cameras', host: HOST, mode: 'fail-open', reason: 'INC-7: renewed key not pinned', confirm: HOST });
    expect(kill.status).toBe(201);
    await vi.waitFor(async () => expect((await real.call('GET', `/api/kill-switch/${kill.body.id}`, operator)).body.coverage.percentOnline).toBe(100), { timeout: 30_000 });

    for (const [viewport, suffix] of [
      [{ width: 1400, height: 900 }, ''],
      [{ width: 390, height: 844 }, '-phone'],
    ] as const) {
      const { page, close } = await operatorPage(viewport);
      try {
        await shoot(page, '/lifecycle', `lifecycle${suffix}.png`, '#findings tr[data-finding="drift-unpinned"]');
        expect(await page.locator('#findings tr[data-finding="ct-unpinned"]').count()).toBeGreaterThan(0);
        expect(await page.locator('#kill-switches tr[data-kill]').count()).toBe(1);
        expect(await page.locator('#rotation-plans tr[data-plan]').count()).toBe(1);
        expect(await page.locator('#mismatches tr[data-mismatch="logged-for-our-name"]').count()).toBe(1);
        expect(await noSidewaysScroll(page), `lifecycle${suffix}`).toBeLessThanOrEqual(0);
      } finally {
        await close();
      }
    }

    // decommission a thermostat from its page (the confirmation accepted, a reason given)
    const { page, close } = await operatorPage({ width: 1400, height: 900 });
    try {
      await page.goto(real.url + '/devices/therm-059');
      await page.fill('form[action$="/decommission"] input[name="reason"]', 'RMA-311: returned, board replaced');
      page.once('dialog', (d) => void d.accept());
      await page.click('form[action$="/decommission"] button');
      await page.waitForSelector('form[action$="/recommission"]');
      expect((await real.call('GET', '/api/devices/therm-059', operator)).body.decommissioned).toBe(true);
      await shoot(page, '/devices/therm-059', 'device-decommissioned.png', 'form[action$="/recommission"]');
    } finally {
      await close();
    }
    const phone = await operatorPage({ width: 390, height: 844 });
    try {
      await shoot(phone.page, '/devices/therm-059', 'device-decommissioned-phone.png', 'form[action$="/recommission"]');
      expect(await noSidewaysScroll(phone.page)).toBeLessThanOrEqual(0);
    } finally {
      await phone.close();
    }
  }, 240_000);
});
