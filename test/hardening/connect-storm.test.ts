/**
 * Issue 17, connect storms, on a real gateway over real sockets while the machine is busy (a CPU-spinning child
 * process besides whatever else runs): CONNECTs whose clients gave up are dropped before their credential check, and a cold start of 300
 * devices at once converges with at most 1.2 connection attempts per device. The 2,000-device version against a gateway
 * process is ./cold-start.test.ts (and `npm run bench -- storm`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor } from '../gateway/helpers/wait-for';

const DEVICES = 300;
let dir: string;
let gw: TestGateway;
const creds: string[] = [];
const spinners: ChildProcess[] = [];

beforeAll(async () => {
  dir = tempDir();
  // the credential hash of before issue 17 (scrypt N=4096, still what older enrolments hold until they log in once):
  // each check is real work for the two cores, so abandoned CONNECTs are still queued when their clients leave
  gw = await startTestGateway(dir, { credentialHash: 'scrypt', credentialScryptN: 4096 });
  for (let i = 0; i < DEVICES; i++) creds.push(await enrol(gw, `st-${String(i).padStart(4, '0')}`, 'fleet-st'));
  for (let i = 0; i < 1; i++) spinners.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}, 300_000);
afterAll(async () => {
  for (const s of spinners) if (s.pid !== undefined) process.kill(s.pid, 'SIGKILL');
  await gw.stop();
  removeDir(dir);
});

const security = async () => (await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body.broker;

describe('connect storms', () => {
  it('CONNECTs of clients that already gave up are dropped before their credential check', async () => {
    const before = await security();
    // 300 CONNECTs sent at once, each socket closed right after (a client that timed out)
    await Promise.all(
      creds.map(
        (password, i) =>
          new Promise<void>((resolve) => {
            const id = `st-${String(i).padStart(4, '0')}`;
            const s = netConnect(gw.mqtt!.port, '127.0.0.1', () => {
              s.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, username: id, password: Buffer.from(password), clean: true, keepalive: 30 }));
              setTimeout(() => s.destroy(), 30); // long enough for the CONNECT to be read and queued
            });
            s.on('error', () => {});
            s.on('close', () => resolve());
          }),
      ),
    );
    const after = await waitFor('every abandoned CONNECT settled', async () => {
      const s = await security();
      return s.checksInFlight === 0 && s.checksQueued === 0 ? s : null;
    }, 60_000);
    const ran = after.checksRun - before.checksRun;
    const dropped = after.droppedGone - before.droppedGone;
    expect(ran + dropped).toBeLessThanOrEqual(DEVICES);
    expect(dropped).toBeGreaterThan(DEVICES / 2); // most never cost a scrypt
  });

  it(`a cold start of ${DEVICES} devices at once over TLS converges with ≤ 1.2 attempts per device`, async () => {
    const ca = readFileSync(gw.files.tlsCert);
    let attempts = 0;
    const clients = creds.map((password, i) => {
      const id = `st-${String(i).padStart(4, '0')}`;
      attempts += 1;
      // firmware-like: 30 s to CONNACK, retry 2 s after a failure
      const c = mqtt.connect(`mqtts://127.0.0.1:${gw.mqtts.port}`, { ca, clientId: id, username: id, password, protocolVersion: 4, connectTimeout: 30_000, reconnectPeriod: 2000, clean: true });
      c.on('reconnect', () => (attempts += 1));
      c.on('error', () => {});
      return c;
    });
    try {
      await waitFor('all devices connected', () => clients.every((c) => c.connected), 180_000, 100);
      expect(attempts / DEVICES).toBeLessThanOrEqual(1.2);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
    }
  });
});
