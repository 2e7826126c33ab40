import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { hashDeviceCredentialPbkdf2 } from '../../gateway/auth/device-credentials';
import { BackendConnection } from '../../gateway/external-broker/backend-connection';
import { signalReload } from '../../gateway/external-broker/password-file';
import { memoryLogger } from '../../gateway/logger';
import { connectRaw } from '../gateway/helpers/device-client';
import { waitFor } from '../support/wait-for';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';

/**
 * One backend connection against a real Mosquitto: PUBACKs are held until the handler's promise settles, and a
 * message whose handler fails is not acknowledged — the broker redelivers it, nothing is lost.
 */
describe('backend connection: PUBACK after the commit, redelivery after a failed one', () => {
  let m: TestMosquitto;
  const logger = memoryLogger();
  const seen: { payload: string; ok: boolean }[] = [];
  let failOnce = new Set<string>(['m3']);
  let conn: BackendConnection;

  beforeAll(async () => {
    m = await startMosquitto();
    writeFileSync(m.passwordFile, `${m.gatewayUser}:${await hashDeviceCredentialPbkdf2('gw')}\ndev-1:${await hashDeviceCredentialPbkdf2('d')}\n`);
    signalReload(m.pidFile);
    conn = new BackendConnection({
      url: new URL(m.backendUrl), ca: readFileSync(m.caFile), username: m.gatewayUser, password: 'gw', clientId: 'pingw@backend-test',
      receiveMaximum: 100, subscriptions: ['$share/pingw/pins/v1/+/report'], logger,
      onMessage: async (_topic, payload) => {
        const text = payload.toString();
        await new Promise((r) => setTimeout(r, 5)); // a commit takes a moment
        if (failOnce.delete(text)) {
          seen.push({ payload: text, ok: false });
          throw new Error(`commit of ${text} failed`);
        }
        seen.push({ payload: text, ok: true });
      },
    });
    await waitFor('backend accepted', () => conn.start(2000).then(() => true, () => false), 10_000, 100);
  });
  afterAll(async () => {
    await conn?.close();
    await m?.stop();
  });

  it('a failed commit is not acknowledged: the broker redelivers it and every message ends up committed', async () => {
    const device = await waitFor('dev-1 accepted', () =>
      connectRaw(m.deviceUrl, { ca: m.caPem, servername: 'localhost', clientId: 'dev-1', username: 'dev-1', password: 'd' }).catch(() => null), 10_000, 50);
    for (let i = 1; i <= 6; i++) await device.publishAsync('pins/v1/dev-1/report', `m${i}`, { qos: 1 });
    const committed = () => new Set(seen.filter((s) => s.ok).map((s) => s.payload));
    await waitFor('all six committed', () => committed().size === 6, 15_000, 20);
    expect([...committed()].sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(seen.filter((s) => s.payload === 'm3').map((s) => s.ok)).toEqual([false, true]);
    expect(logger.lines.some((l) => l.level === 'error' && String(l.context?.['error']).includes('commit of m3 failed'))).toBe(true);
    // acknowledged = committed: nothing left unacknowledged in the session once all committed
    await waitFor('PUBACKs sent', () => conn.stats.acked >= 6, 5000, 20);
    await device.endAsync();
  });

  it('holds the PUBACK while the commit is pending (the broker keeps the message in flight)', async () => {
    let release: () => void = () => {};
    const pending = new Promise<void>((r) => (release = r));
    failOnce = new Set();
    const before = conn.stats.acked;
    const slow = new BackendConnection({
      url: new URL(m.backendUrl), ca: readFileSync(m.caFile), username: m.gatewayUser, password: 'gw', clientId: 'pingw@backend-slow',
      receiveMaximum: 10, subscriptions: ['$share/slow/pins/v1/+/hello'], logger,
      onMessage: () => pending,
    });
    await slow.start(5000);
    const device = await connectRaw(m.deviceUrl, { ca: m.caPem, servername: 'localhost', clientId: 'dev-1', username: 'dev-1', password: 'd' });
    await device.publishAsync('pins/v1/dev-1/hello', 'h', { qos: 1 });
    await waitFor('received', () => slow.stats.received === 1, 5000, 20);
    expect(slow.stats.acked).toBe(0); // not before the commit
    release();
    await waitFor('acknowledged after the commit', () => slow.stats.acked === 1, 5000, 20);
    await slow.close();
    await device.endAsync();
    expect(conn.stats.acked).toBe(before);
  });
});
