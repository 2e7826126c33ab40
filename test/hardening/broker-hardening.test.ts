/**
 * Issue 17, device side, on a real gateway over real sockets: QoS 2 subscriptions granted 1; credential guessing
 * throttled per address and identity (counted where operators see it) while the honest device connects and gets
 * its update; a credential used from two connections flagged and audited; silent TLS handshakes closed.
 */
import { MqttClient, type IClientOptions } from 'mqtt';
import { connect as netConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { topicFor } from '../../shared/index';
import { connectDevice, mqttUrl } from '../gateway/helpers/device-client';
import { api, enrol, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor } from '../gateway/helpers/wait-for';

let dir: string;
let gw: TestGateway;
let url: string;
const creds: Record<string, string> = {};
let silent: Socket;
let silentClosed = false;
let mute: Socket;
let muteClosed = false;

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir);
  url = mqttUrl(gw);
  for (const id of ['dev-q', 'dev-h', 'dev-t']) creds[id] = await enrol(gw, id);
  // a TLS client that opens the socket and never says ClientHello: must be closed by the gateway
  silent = netConnect(gw.mqtts.port, '127.0.0.1');
  silent.on('error', () => {});
  silent.on('close', () => (silentClosed = true));
  // a plain MQTT client that opens the socket and never sends CONNECT: must be closed by the gateway
  mute = netConnect(gw.mqtt!.port, '127.0.0.1');
  mute.on('error', () => {});
  mute.on('close', () => (muteClosed = true));
});
afterAll(async () => {
  silent.destroy();
  mute.destroy();
  await gw.stop();
  removeDir(dir);
});

/** An MQTT client whose socket leaves from another loopback address (another "host" for the gateway). */
function connectFrom(localAddress: string, opts: IClientOptions): Promise<{ client: MqttClient; code: number }> {
  return new Promise((resolve) => {
    const client = new MqttClient(() => netConnect({ port: gw.mqtt!.port, host: '127.0.0.1', localAddress }), {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...opts,
    });
    client.once('connect', () => resolve({ client, code: 0 }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ client, code: (err as { code?: number }).code ?? -1 });
    });
    client.once('close', () => resolve({ client, code: -1 }));
  });
}

const device = async (id: string) => (await api(gw, 'GET', `/api/devices/${id}`, { token: gw.adminToken })).body;

describe('subscriptions', () => {
  it('a QoS 2 subscription is granted QoS 1 (SPEC §6 ACL cap) in the SUBACK, and updates arrive at QoS 1', async () => {
    const dev = await connectDevice(url, 'dev-q', creds['dev-q']!, { hello: false });
    const granted = await dev.client.subscribeAsync(topicFor('dev-q', 'update'), { qos: 2 });
    expect(granted[0]?.qos).toBe(1);
    const qos: number[] = [];
    dev.client.on('message', (topic, _payload, packet) => {
      if (topic === topicFor('dev-q', 'update')) qos.push(packet.qos);
    });
    const p = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') });
    await api(gw, 'POST', `/api/pinsets/${p.body.id}/deliver`, { token: gw.adminToken, body: { deviceIds: ['dev-q'] } });
    await vi.waitFor(() => expect(qos.length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
    expect(qos.every((q) => q === 1)).toBe(true);
    await dev.end();
  });
});

describe('credential guessing', () => {
  it('is throttled per address and identity, counted, and the honest device still connects and gets its update', async () => {
    const honest = await connectDevice(url, 'dev-h', creds['dev-h']!, { hello: false });
    await honest.end();
    const failed: { deviceId: string; throttled: boolean }[] = [];
    const off = gw.events.on('authFailed', (e) => failed.push(e));
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await connectFrom('127.0.0.2', { clientId: 'dev-h', username: 'dev-h', password: `guess-${i}` });
      codes.push(r.code);
    }
    // refused with CONNACK 4, or (once the address is in back-off) closed before any MQTT is read (-1 here)
    expect(codes.every((c) => c === 4 || c === -1)).toBe(true);
    expect(codes.filter((c) => c === 4).length).toBeGreaterThanOrEqual(3);
    // the guesser's address is throttled for other identities too (asked at once: the back-off is still running)
    const other = await connectFrom('127.0.0.2', { clientId: 'dev-q', username: 'dev-q', password: creds['dev-q']! });
    expect([4, -1]).toContain(other.code);
    // the honest device, from its usual address, during the attack: connected, hello → update
    const p = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') });
    await api(gw, 'POST', `/api/pinsets/${p.body.id}/deliver`, { token: gw.adminToken, body: { deviceIds: ['dev-h'] } });
    const again = await connectDevice(url, 'dev-h', creds['dev-h']!);
    await waitFor('update after hello', () => again.received.update.length > 0);
    await again.end();

    const sec = (await device('dev-h')).security;
    const totals = (await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body.broker;
    expect(sec.authFailures + sec.throttled + totals.closedAtAccept).toBe(40 + (other.code === -1 ? 1 : 0)); // dev-q's try may be closed at accept too
    expect(sec.throttled + totals.closedAtAccept).toBeGreaterThan(25); // most guesses never reached a credential check
    expect(sec.authFailures).toBeLessThan(15);
    expect(sec.lastFailureFrom).toBe('127.0.0.2');
    expect(failed.filter((e) => e.deviceId === 'dev-h').length).toBe(sec.authFailures + sec.throttled);
    expect(gw.logs.filter((l) => l.level === 'warn' && l.message === 'device authentication failed' && l.context?.['deviceId'] === 'dev-h').length).toBeLessThanOrEqual(1);
    off();
  });
});

describe('a credential used from two connections', () => {
  it('flags the device and audits the second address; the older session is closed', async () => {
    const first = await connectDevice(url, 'dev-t', creds['dev-t']!, { hello: false });
    let firstClosed = false;
    first.client.on('close', () => (firstClosed = true));
    const second = await connectFrom('127.0.0.3', { clientId: 'dev-t', username: 'dev-t', password: creds['dev-t']! });
    expect(second.code).toBe(0);
    await waitFor('older session closed', () => firstClosed);
    const d = await device('dev-t');
    expect(d.flagged.reason).toContain('127.0.0.3');
    expect(d.security.takeovers).toBe(1);
    const audit = (await api(gw, 'GET', '/api/audit?limit=100', { token: gw.adminToken })).body.items;
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'device.session-takeover', target: 'dev-t', detail: expect.objectContaining({ from: '127.0.0.3', previousFrom: '127.0.0.1', suspicious: true }) }),
      ]),
    );
    first.client.end(true);
    await second.client.endAsync();
  });
});

describe('silent connections', () => {
  it('a TLS connection that never starts its handshake is closed by the gateway (10 s handshake timeout)', async () => {
    await waitFor('silent TLS socket closed', () => silentClosed, 25_000, 100);
  });

  it('an MQTT connection that sends no CONNECT is closed by the gateway (10 s CONNECT timeout)', async () => {
    await vi.waitFor(() => expect(muteClosed).toBe(true), { timeout: 25_000, interval: 100 });
  });
});

