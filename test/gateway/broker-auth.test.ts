import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Socket } from 'node:net';
import { encodeAck, topicFor } from '../../shared/index';
import { connectDevice, connectRaw, mqttUrl } from './helpers/device-client';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';
import { waitFor } from './helpers/wait-for';

describe('broker authentication and authorisation', () => {
  let dir: string;
  let gw: TestGateway;
  let credA: string;
  let url: string;

  beforeAll(async () => {
    dir = tempDir();
    gw = await startTestGateway(dir);
    url = mqttUrl(gw);
    credA = await enrol(gw, 'dev-a');
    await enrol(gw, 'dev-b');
  });
  afterAll(async () => {
    await gw.stop();
    removeDir(dir);
  });

  const connackCode = async (opts: Parameters<typeof connectRaw>[1]) => {
    try {
      const c = await connectRaw(url, opts);
      await c.endAsync();
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  };

  it('refuses anonymous clients (CONNACK 5)', async () => {
    expect(await connackCode({ clientId: 'dev-a' })).toBe(5);
  });

  it('refuses a wrong password and an unknown device (CONNACK 4)', async () => {
    expect(await connackCode({ clientId: 'dev-a', username: 'dev-a', password: 'not-the-credential' })).toBe(4);
    expect(await connackCode({ clientId: 'ghost', username: 'ghost', password: credA })).toBe(4);
  });

  it("refuses another device's credential and a client id that is not the device id", async () => {
    expect(await connackCode({ clientId: 'dev-b', username: 'dev-b', password: credA })).toBe(4);
    expect(await connackCode({ clientId: 'other-id', username: 'dev-a', password: credA })).toBe(2);
  });

  it('accepts the right credential and marks the device online', async () => {
    const dev = await connectDevice(url, 'dev-a', credA, { hello: false });
    const res = await waitFor('dev-a online', async () => {
      const r = await api(gw, 'GET', '/api/devices/dev-a', { token: gw.adminToken });
      return r.body.online ? r : null;
    });
    expect(res.body.deviceId).toBe('dev-a');
    await dev.end();
    await waitFor('dev-a offline', async () => !(await api(gw, 'GET', '/api/devices/dev-a', { token: gw.adminToken })).body.online);
  });

  it("refuses subscriptions to other devices' topics, wildcards and its own hello topic (SUBACK 0x80)", async () => {
    const dev = await connectDevice(url, 'dev-a', credA, { hello: false });
    // mqtt.js rejects a SUBACK holding 0x80 and carries the packet on the error
    const grantedQos = async (topic: string) => {
      try {
        const granted = await dev.client.subscribeAsync(topic, { qos: 1 });
        return granted[0]?.qos;
      } catch (err) {
        return (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];
      }
    };
    for (const topic of ['#', 'pins/v1/+/update', topicFor('dev-b', 'update'), topicFor('dev-a', 'hello'), '$SYS/#']) {
      expect(await grantedQos(topic), topic).toBe(128);
    }
    expect(await grantedQos(topicFor('dev-a', 'keyset'))).toBe(1);
    expect(dev.client.connected).toBe(true);
    await dev.end();
  });

  it("closes the connection of a device publishing on another device's topic, and records nothing", async () => {
    const dev = await connectDevice(url, 'dev-a', credA, { hello: false });
    const closed = new Promise<void>((r) => dev.client.once('close', () => r()));
    dev.client.publish(topicFor('dev-b', 'ack'), Buffer.from(encodeAck({ seq: 1, sha256: new Uint8Array(32), status: 'applied' })), { qos: 1 });
    await closed;
    const b = await api(gw, 'GET', '/api/devices/dev-b', { token: gw.adminToken });
    expect(b.body.history).toEqual([]);
    dev.client.end(true);
    // counted against the device that tried, per code
    await waitFor('E_TOPIC counted for dev-a', async () =>
      (await api(gw, 'GET', '/api/devices/dev-a', { token: gw.adminToken })).body.malformed.some((m: { code: string }) => m.code === 'E_TOPIC'),
    );
  });

  it('closes the connection of a device publishing on its own update topic', async () => {
    const dev = await connectDevice(url, 'dev-a', credA, { hello: false });
    const closed = new Promise<void>((r) => dev.client.once('close', () => r()));
    dev.client.publish(topicFor('dev-a', 'update'), Buffer.from('x'), { qos: 1 });
    await closed;
    dev.client.end(true);
    // SPEC §6: update is gateway → device only; the attempt is counted against the device as E_TOPIC
    const malformed = await waitFor('E_TOPIC counted for the update topic', async () =>
      (await api(gw, 'GET', '/api/devices/dev-a', { token: gw.adminToken })).body.malformed.find(
        (m: { code: string; topic?: string; detail?: string }) => m.code === 'E_TOPIC' && JSON.stringify(m).includes('/update'),
      ),
    );
    expect(malformed).toMatchObject({ kind: 'publish', code: 'E_TOPIC' });
  });

  it('refuses an oversized payload (> 4096 bytes) by closing the connection', async () => {
    const dev = await connectDevice(url, 'dev-a', credA, { hello: false });
    const closed = new Promise<void>((r) => dev.client.once('close', () => r()));
    dev.client.publish(topicFor('dev-a', 'ack'), Buffer.alloc(4097, 0xa0), { qos: 1 });
    await closed;
    dev.client.end(true);
    const malformed = await waitFor('E_SIZE counted', async () =>
      (await api(gw, 'GET', '/api/devices/dev-a', { token: gw.adminToken })).body.malformed.find((m: { code: string }) => m.code === 'E_SIZE'),
    );
    expect(malformed).toMatchObject({ kind: 'publish', count: 1 });
  });

  it('destroys a connection that announces a huge packet before buffering it', async () => {
    const dev = await connectDevice(url, 'dev-a', credA, { hello: false });
    const closed = new Promise<void>((r) => dev.client.once('close', () => r()));
    dev.client.publish(topicFor('dev-a', 'report'), Buffer.alloc(200_000, 1), { qos: 0 });
    await closed;
    dev.client.end(true);
    expect(gw.logs.some((l) => l.message.includes('oversized MQTT packet'))).toBe(true);
  });

  it('a raw socket sending a 256 MB remaining length before CONNECT is cut off', async () => {
    const cuts = () => gw.logs.filter((l) => l.message.includes('oversized MQTT packet'));
    const before = cuts().length;
    const socket = new Socket();
    await new Promise<void>((r) => socket.connect(gw.mqtt!.port, '127.0.0.1', () => r()));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await closed;
    // no device to count it against yet: the cut is logged (once) with the source address and the length seen so far
    expect(cuts().length).toBe(before + 1);
    expect(cuts().at(-1)?.context).toMatchObject({ remote: '127.0.0.1' });
    expect(Number((cuts().at(-1)?.context as { announced?: number }).announced)).toBeGreaterThan(4096);
  });
});
