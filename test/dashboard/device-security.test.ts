/**
 * Issue 17 on the REAL gateway, seen in chromium: the device page shows the device's security counters — refused
 * log-ins (wrong credential, from which address), a session takeover (the second connection's address and time)
 * and telemetry reports dropped — after they happened over real MQTT sockets.
 */
import { MqttClient } from 'mqtt';
import { connect as netConnect } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fmtTime } from '../../dashboard/components/format';
import type { MqttDevice } from './mqtt-device';
import { launchChromium, startRealGateway, type RealGateway, logIn as logInAt } from './real-harness';
import { HOST, PIN_A } from './scenario';

let real: RealGateway;
let browser: Browser;
let viewer = '';
let device: MqttDevice;
let credential = '';
const others: MqttClient[] = [];

/** One CONNECT from `localAddress` (another "host" for the gateway); resolves with the CONNACK code (0 = accepted). */
function connectFrom(localAddress: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const client = new MqttClient(() => netConnect({ port: real.gw.mqtt!.port, host: '127.0.0.1', localAddress }), {
      clientId: 'lock-1', username: 'lock-1', password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000,
    });
    others.push(client);
    client.once('connect', () => resolve(0));
    client.once('error', (err) => {
      client.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
    client.once('close', () => resolve(-1));
  });
}

beforeAll(async () => {
  real = await startRealGateway();
  const operator = await real.token('olivia', 'operator');
  viewer = await real.token('victor', 'viewer');
  credential = await real.enrol(operator, 'lock-1', 'locks');
  device = await real.connect('lock-1', credential, 'locks', '2.0.0');
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of others) c.end(true);
  await browser?.close();
  await real?.stop();
});

const logIn = (page: Page, path: string, token: string) => logInAt(page, real.url, path, token);

describe('device page: security counters (issue 17)', () => {
  it('shows refused log-ins, a takeover with the second address and time, and dropped reports', async () => {
    // two guesses from another host: refused with CONNACK 4
    expect(await connectFrom('127.0.0.2', 'guess-1')).toBe(4);
    expect(await connectFrom('127.0.0.2', 'guess-2')).toBe(4);
    // the same report twice: the second is a duplicate (acknowledged, not stored)
    await device.report(HOST, [PIN_A], 'mismatch');
    await device.report(HOST, [PIN_A], 'mismatch');
    // the credential used from a third host while the device is connected: a takeover
    expect(await connectFrom('127.0.0.3', credential)).toBe(0);
    const api = await vi.waitFor(
      async () => {
        const s = (await real.call('GET', '/api/devices/lock-1', viewer)).body.security;
        expect(s).toMatchObject({ authFailures: 2, takeovers: 1, lastTakeoverFrom: '127.0.0.3', lastFailureFrom: '127.0.0.2', reportsDropped: { duplicate: 1 } });
        return s as { lastTakeoverAt: number };
      },
      { timeout: 10_000 },
    );

    const page = await browser.newPage();
    try {
      await logIn(page, '/devices/lock-1', viewer);
      const text = async (key: string) => (await page.locator(`[data-security="${key}"]`).first().textContent())?.trim();
      expect(await text('authFailures')).toBe('2');
      expect(await text('throttled')).toBe('0');
      expect(await text('takeovers')).toBe('1');
      expect(await text('lastTakeoverFrom')).toBe('127.0.0.3');
      expect(await text('lastTakeoverAt')).toBe(fmtTime(api.lastTakeoverAt));
      expect(await text('reportsDuplicate')).toBe('1');
      expect(await text('reportsOverLimit')).toBe('0');
      expect(await page.locator('.device-security').textContent()).toContain('127.0.0.2'); // where the refused log-ins came from
    } finally {
      await page.close();
    }
  });
});
