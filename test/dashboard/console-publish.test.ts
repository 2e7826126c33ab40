/**
 * Issue 15 in chromium on the REAL gateway: the README's "first rollout" without a terminal. Publish a pin set as
 * JSON (a refused one first: the gateway's own message, the input kept), upload an envelope signed offline with the
 * backup signer (and a tampered one, refused), create a rollout from the form (a bad value first: the API's
 * validation message), start it, and watch real devices verify it; then the key rotation: the overview's rotation gate
 * for the new key turns ready, its page records the rotation, and the page shows it recorded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pinSetFromJson, signerKeyFromPem, signPinSet } from '../../shared/index';
import type { MqttDevice } from './mqtt-device';
import { launchChromium, startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C } from './scenario';

let real: RealGateway;
let browser: Browser;
let operator = '';
const plugs: MqttDevice[] = [];

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  for (let i = 0; i < 4; i++) plugs.push(await real.device(operator, `plug-${i}`, 'plugs', '1.0.0'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await real?.stop();
});

describe('publishing and creating a rollout from the dashboard (issue 15)', () => {
  it('chromium: publish JSON and an offline-signed envelope, create a rollout, start it, devices verify, record the rotation', async () => {
    const admin = await real.token('ada', 'operator'); // operator ≥ publisher
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    try {
      await page.goto(`${real.url}/pinsets`);
      await page.fill('#token', admin);
      await page.click('button[type=submit]');
      await page.waitForURL(`${real.url}/pinsets`);

      // rule of two (SPEC §2): an enforced host with one pin is refused with the gateway's message, input kept
      const single = JSON.stringify({ target: { fleet: 'plugs' }, hosts: [{ name: HOST, includeSubdomains: false, enforce: true, pins: [PIN_A] }] });
      await page.fill('#pinset-json', single);
      await page.click('#publish-json button[type=submit]');
      await page.waitForSelector('#publish-json .alert-error');
      expect(await page.textContent('#publish-json .alert-error')).toMatch(/The gateway refused it \(E_[A-Z_]+\): .*/);
      expect(await page.inputValue('#pinset-json')).toBe(single);

      const good = JSON.stringify({ target: { fleet: 'plugs' }, hosts: [{ name: HOST, includeSubdomains: false, enforce: true, pins: [PIN_A, PIN_B] }] });
      await page.fill('#pinset-json', good);
      await page.click('#publish-json button[type=submit]');
      await page.waitForSelector('.notice:has-text("Pin set seq 1 published for plugs.")');
      expect(new URL(page.url()).pathname).toBe('/pinsets');

      // offline-signed envelope (seq 2, B+C) with the backup signer the gateway trusts; a tampered copy first
      const key = signerKeyFromPem(readFileSync(real.gw.files.backupSigner ?? '', 'utf8'));
      const now = Math.floor(Date.now() / 1000);
      const set = pinSetFromJson({ format: 1, seq: 2, issuedAt: now - 60, notAfter: now + 86_400, keysetVersion: 1, target: { fleet: 'plugs' }, hosts: [{ name: HOST, includeSubdomains: false, enforce: true, pins: [PIN_B, PIN_C] }] });
      if (!set.ok) throw new Error(set.error);
      const envelope = signPinSet(set.value, key);
      const tampered = Uint8Array.from(envelope);
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
      const dir = tmpdir();
      writeFileSync(join(dir, 'tampered.cose'), tampered);
      writeFileSync(join(dir, 'plugs-2.cose'), envelope);
      await page.setInputFiles('#envelope', join(dir, 'tampered.cose'));
      await page.click('#publish-envelope button[type=submit]');
      await page.waitForSelector('#publish-envelope .alert-error');
      expect(await page.textContent('#publish-envelope .alert-error')).toContain('E_SIG');
      await page.setInputFiles('#envelope', join(dir, 'plugs-2.cose'));
      await page.click('#publish-envelope button[type=submit]');
      await page.waitForSelector('.notice:has-text("Pin set seq 2 published for plugs.")');
      expect(await page.textContent('tr:has(td.num:text-is("2")) td.source')).toBe('signed offline');
      expect(await page.textContent('tr:has(td.num:text-is("1")) td.source')).toBe('signed by the gateway');

      // create a rollout of seq 2 from its row: a bad soak first (the API's message), then a good plan
      await page.click('tr:has(td.num:text-is("2")) a:has-text("Create rollout")');
      await page.waitForSelector('h1:has-text("New rollout")');
      await page.fill('input[name="w0.name"]', 'canary');
      await page.selectOption('select[name="w0.kind"]', 'count');
      await page.fill('input[name="w0.value"]', '1');
      await page.fill('input[name="w1.name"]', 'rest');
      await page.fill('input[name="w1.value"]', '100');
      await page.fill('input[name="soakMinutes"]', 'ten');
      await page.click('button:has-text("Create draft rollout")');
      await page.waitForSelector('.alert-error');
      expect(await page.textContent('.alert-error')).toMatch(/E_BAD_BODY.*body\.gates\.soakMs/);
      expect(await page.inputValue('input[name="w0.name"]')).toBe('canary');
      await page.fill('input[name="soakMinutes"]', '0');
      await page.click('button:has-text("Create draft rollout")');
      await page.waitForSelector('[data-rollout-state="DRAFT"]');
      expect(await page.textContent('.notice')).toContain('created as a draft');
      expect(await page.textContent('tr[data-wave="0"]')).toContain('1 device');
      await page.click('form[action$="/start"] button');
      await vi.waitFor(() => expect(plugs.every((d) => d.verified.includes(2))).toBe(true), { timeout: 60_000 });
      // the page follows live to the end, even when the rollout completed while the page was loading
      await page.waitForSelector('[data-rollout-state="COMPLETED"]', { timeout: 60_000 });
      expect(await page.textContent('.verified-count')).toBe('4');
      expect(await page.textContent('tr[data-wave="0"]')).toContain('done');

      // the key rotation, still in the browser: from the overview's rotation gate for the new key C to a recorded
      // rotation, and the page reflecting it
      await page.click('nav a[href="/"]');
      await page.waitForSelector(`tr[data-pin="${PIN_C}"] [data-gate="ready"]`);
      await page.click(`tr[data-pin="${PIN_C}"] [data-gate] a`);
      await page.waitForSelector('h1');
      expect(new URL(page.url()).pathname).toBe('/rotation');
      expect(await page.getAttribute('[data-gate]', 'data-gate')).toBe('ready');
      expect(await page.locator('.force-rotation').count()).toBe(0);
      await page.fill('#rot-reason', 'CHG-42: api.example.com switches to key C');
      await page.click('form.record-rotation button[type=submit]');
      await page.waitForSelector('.rotation-recorded');
      expect(new URL(page.url()).pathname).toBe('/rotation');
      expect(await page.textContent('.notice')).toContain(`Rotation of ${HOST} recorded.`);
      expect(await page.textContent('tr[data-rotation]')).toContain('CHG-42');
      const recorded = (await real.call('GET', '/api/rotations?fleet=plugs', operator)).body as { pin: string; forced: boolean; recordedBy: string }[];
      expect(recorded.map((r) => [r.pin, r.forced, r.recordedBy])).toEqual([[PIN_C, false, 'ada']]);
    } finally {
      await ctx.close();
    }
  });
});
