import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashDeviceCredentialPbkdf2 } from '../../../gateway/auth/device-credentials';
import { signalReload } from '../../../gateway/external-broker/password-file';
import { startMosquitto, type TestMosquitto } from '../../support/mosquitto';

/**
 * The broker the simulator tests run against: a real Mosquitto 2 with the repo's configuration and SPEC §6 ACL
 * (deploy/mosquitto), serving the test's own key (devices pin it). Devices authenticate from the same password
 * file the gateway writes in production; the test's "gateway side" (gateway-client.ts) is a backend client with
 * the gateway's user, so it may publish any envelope a test needs. Nothing here re-implements the ACL.
 */
export interface DeviceBroker {
  /** Where devices connect (MQTT over TLS, user name = client id). */
  readonly port: number;
  /** Where the gateway side connects (the backend listener). */
  readonly gatewayPort: number;
  readonly gateway: { readonly username: string; readonly password: string };
  readonly mosquitto: TestMosquitto;
  /** Enrols a device (or changes its credential): the broker accepts it once the reload is through. */
  enrol(deviceId: string, credential: string): Promise<void>;
  /** Serves another certificate from now on (Mosquitto reloads certfile/keyfile on SIGHUP). */
  setCert(certFile: string, keyFile: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDeviceBroker(o: { certFile: string; keyFile: string; devices?: ReadonlyMap<string, string> }): Promise<DeviceBroker> {
  // the served pair lives in files of our own, which setCert overwrites before a reload
  const served = mkdtempSync(join(tmpdir(), 'pingw-served-'));
  const tls = { certFile: join(served, 'cert.pem'), keyFile: join(served, 'key.pem') };
  copyFileSync(o.certFile, tls.certFile);
  copyFileSync(o.keyFile, tls.keyFile);
  const m = await startMosquitto({ tls });
  const gateway = { username: m.gatewayUser, password: `gw-${Math.random().toString(36).slice(2)}` };
  const lines = new Map<string, string>([[gateway.username, await hashDeviceCredentialPbkdf2(gateway.password)]]);
  const write = async () => {
    writeFileSync(m.passwordFile, [...lines].map(([u, h]) => `${u}:${h}\n`).join(''));
    signalReload(m.pidFile);
  };
  for (const [id, cred] of o.devices ?? []) lines.set(id, await hashDeviceCredentialPbkdf2(cred));
  await write();
  return {
    port: m.devicePort,
    gatewayPort: m.backendPort,
    gateway,
    mosquitto: m,
    async enrol(deviceId, credential) {
      lines.set(deviceId, await hashDeviceCredentialPbkdf2(credential));
      await write();
    },
    async setCert(certFile, keyFile) {
      copyFileSync(certFile, tls.certFile);
      copyFileSync(keyFile, tls.keyFile);
      // the device listener has certificate files of its own (deploy/mosquitto/mosquitto.conf)
      copyFileSync(keyFile, m.deviceKeyFile);
      copyFileSync(certFile, m.deviceCertFile);
      signalReload(m.pidFile);
    },
    async close() {
      await m.stop();
      rmSync(served, { recursive: true, force: true });
    },
  };
}
