import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connectDevice, connectRaw } from './helpers/device-client';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';
import { waitFor } from './helpers/wait-for';

describe('MQTT over TLS', () => {
  let dir: string;
  let gw: TestGateway;
  beforeAll(async () => {
    dir = tempDir();
    gw = await startTestGateway(dir, { mqtt: null, tlsHostnames: ['localhost', '127.0.0.1'] });
  });
  afterAll(async () => {
    await gw.stop();
    removeDir(dir);
  });

  it('a device trusting the generated certificate connects, says hello and is authorised as over TCP', async () => {
    expect(gw.mqtt).toBeNull();
    const credential = await enrol(gw, 'tls-dev');
    const ca = readFileSync(gw.files.tlsCert);
    const url = `mqtts://localhost:${gw.mqtts.port}`;
    const dev = await connectDevice(url, 'tls-dev', credential, { mqtt: { ca, rejectUnauthorized: true } });
    await waitFor('hello over TLS recorded', async () => (await api(gw, 'GET', '/api/devices/tls-dev', { token: gw.adminToken })).body.firmware === '1.0.0');
    expect(dev.client.connected).toBe(true);
    await dev.end();
    await expect(connectRaw(url, { ca, clientId: 'tls-dev', username: 'tls-dev', password: 'wrong' })).rejects.toMatchObject({ code: 4 });
  });

  it('a client that does not trust the certificate fails the handshake', async () => {
    await expect(connectRaw(`mqtts://localhost:${gw.mqtts.port}`, { clientId: 'x', username: 'x', password: 'y', rejectUnauthorized: true })).rejects.toThrow();
  });
});
