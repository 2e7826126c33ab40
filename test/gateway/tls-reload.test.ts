import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import { fetchServerPins, formatPin, pinFromCertificate } from '../../shared/index';
import { makeCert, type TestCert } from '../device-sim/support/pki';
import { connectDevice, connectRaw, type TestDevice } from './helpers/device-client';
import { enrol, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';
import { waitFor } from './helpers/wait-for';

/** The served leaf key's pin, as a device sees it. */
const servedPin = async (port: number) => formatPin((await fetchServerPins('127.0.0.1', port, { servername: 'localhost', timeoutMs: 3000 })).chain[0] as Uint8Array);

/** MQTT options of a device that pins exactly this key (its own certificate as the only CA, plus a pin check). */
function pinnedTo(cert: TestCert) {
  const want = formatPin(cert.pin);
  return {
    ca: cert.certPem,
    rejectUnauthorized: true,
    servername: 'localhost',
    checkServerIdentity: (_host: string, peer: PeerCertificate) =>
      formatPin(pinFromCertificate(new Uint8Array(peer.raw))) === want ? undefined : new Error('pin mismatch'),
  };
}

describe('broker TLS key switch without a restart (reloadTls / SIGHUP)', () => {
  let dir: string;
  let gw: TestGateway;
  let k1: TestCert;
  let k2: TestCert;
  const certFile = () => join(dir, 'serving-cert.pem');
  const keyFile = () => join(dir, 'serving-key.pem');
  const install = (c: TestCert) => {
    writeFileSync(certFile(), c.certPem);
    writeFileSync(keyFile(), readFileSync(c.certFile.replace(/-cert\.pem$/, '-key.pem')));
  };
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    dir = tempDir('pingw-tls-');
    k1 = makeCert(join(dir, 'pki'), 'k1', ['localhost', '127.0.0.1']);
    k2 = makeCert(join(dir, 'pki'), 'k2', ['localhost', '127.0.0.1']);
    install(k1);
    gw = await startTestGateway(join(dir, 'data'), { mqtt: null, tls: { certFile: certFile(), keyFile: keyFile() } });
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.end().catch(() => undefined)));
    await gw.stop();
    removeDir(dir);
  });

  it('a device pinned to K2 is refused before the reload and accepted after it; a K1 session stays up', async () => {
    const url = `mqtts://127.0.0.1:${gw.mqtts.port}`;
    const oldCred = await enrol(gw, 'tls-old');
    const newCred = await enrol(gw, 'tls-new');
    expect(await servedPin(gw.mqtts.port)).toBe(formatPin(k1.pin));

    const old = await connectDevice(url, 'tls-old', oldCred, { mqtt: pinnedTo(k1) });
    devices.push(old);
    await expect(connectRaw(url, { clientId: 'tls-new', username: 'tls-new', password: newCred, ...pinnedTo(k2) })).rejects.toThrow();

    install(k2);
    await expect(gw.reloadTls()).resolves.toEqual({ pin: formatPin(k2.pin) });
    expect(gw.logs.some((l) => l.message === 'broker TLS key reloaded' && l.context?.['pin'] === formatPin(k2.pin))).toBe(true);
    expect(await servedPin(gw.mqtts.port)).toBe(formatPin(k2.pin));

    const fresh = await connectDevice(url, 'tls-new', newCred, { mqtt: pinnedTo(k2) });
    devices.push(fresh);
    expect(fresh.client.connected).toBe(true);
    // the session made under K1 was not dropped: it still publishes (QoS 1, PUBACKed by the broker)
    expect(old.client.connected).toBe(true);
    await old.hello({ firmware: '1.0.1' });
    // and a new connection pinned to the old key is now refused
    await expect(connectRaw(url, { clientId: 'tls-old', username: 'tls-old', password: oldCred, ...pinnedTo(k1) })).rejects.toThrow();
    expect(old.client.connected).toBe(true);
  });

  it('a certificate whose key does not match is refused and the previous key stays served', async () => {
    install(k2);
    writeFileSync(keyFile(), readFileSync(k1.certFile.replace(/-cert\.pem$/, '-key.pem'))); // K2 certificate, K1 key
    await expect(gw.reloadTls()).rejects.toThrow();
    expect(gw.logs.some((l) => l.level === 'error' && l.message.startsWith('broker TLS reload failed'))).toBe(true);
    expect(await servedPin(gw.mqtts.port)).toBe(formatPin(k2.pin));
  });
});

describe('npm start: SIGHUP reloads the TLS key', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    removeDir(dir);
  });

  it('serves the replaced key to new connections after SIGHUP, without restarting', async () => {
    dir = tempDir('pingw-sighup-');
    const k1 = makeCert(join(dir, 'pki'), 'k1', ['localhost']);
    const k2 = makeCert(join(dir, 'pki'), 'k2', ['localhost']);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    copyFileSync(k1.certFile, cert);
    copyFileSync(join(dir, 'pki', 'k1-key.pem'), key);
    let out = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: join(import.meta.dirname, '../..'),
      env: {
        ...process.env, PINGW_DATA_DIR: join(dir, 'data'), PINGW_HTTP_HOST: '127.0.0.1', PINGW_HTTP_PORT: '0',
        PINGW_MQTT_PORT: 'off', PINGW_MQTTS_HOST: '127.0.0.1', PINGW_MQTTS_PORT: '0', PINGW_TLS_CERT_FILE: cert, PINGW_TLS_KEY_FILE: key,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const port = Number((await waitFor('the MQTT/TLS port line', () => /MQTT\/TLS:\s+port (\d+)/.exec(out), 30_000))[1]);
    const pid = child.pid as number;
    expect(await servedPin(port)).toBe(formatPin(k1.pin));

    copyFileSync(k2.certFile, cert);
    copyFileSync(join(dir, 'pki', 'k2-key.pem'), key);
    process.kill(pid, 'SIGHUP');
    await waitFor('the reload line', () => out.includes(`now serving ${formatPin(k2.pin)}`), 10_000);
    expect(await servedPin(port)).toBe(formatPin(k2.pin));
    expect(child.exitCode).toBeNull(); // same process

    process.kill(pid, 'SIGTERM');
    await waitFor('the gateway to exit', () => child?.exitCode !== null, 15_000);
    expect(child.exitCode).toBe(0);
  });
});
