import type { IClientOptions } from 'mqtt';
import type { GatewayConfigInput } from '../../gateway/config/schema';
import { connectDevice, connectRaw, type TestDevice } from '../gateway/helpers/device-client';
import { enrol, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor } from '../support/wait-for';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';

/**
 * One device transport under test, seen from a device: the gateway (real, in this process) and where devices
 * connect. `embedded` = the aedes broker in the gateway; `mosquitto` = a real Mosquitto 2 started from
 * deploy/mosquitto, the gateway as its MQTT 5 backend client (PINGW_BROKER_URL).
 */
export interface Target {
  readonly name: 'embedded' | 'mosquitto';
  readonly gw: TestGateway;
  readonly deviceUrl: string;
  readonly mosquitto: TestMosquitto | null;
  /** Options every device connection needs (TLS trust for Mosquitto). */
  readonly deviceOpts: IClientOptions;
  /** Enrols through the API and waits until the broker accepts the credential (provisioning is asynchronous). */
  enrolDevice(deviceId: string, fleet?: string): Promise<string>;
  connect(deviceId: string, credential: string, opts?: Parameters<typeof connectDevice>[3]): Promise<TestDevice>;
  stop(): Promise<void>;
}

export type TargetName = Target['name'];

export async function startTarget(name: TargetName, config: Partial<GatewayConfigInput> = {}): Promise<Target> {
  const dir = tempDir(`pingw-${name}-`);
  const mosquitto = name === 'mosquitto' ? await startMosquitto() : null;
  let gw: TestGateway;
  try {
    gw = await startTestGateway(dir, {
      ...config,
      ...(mosquitto === null
        ? {}
        : {
            broker: {
              url: mosquitto.backendUrl, caFile: mosquitto.caFile, passwordFile: mosquitto.passwordFile, pidFile: mosquitto.pidFile,
              reloadMs: 200, clients: 2,
            },
          }),
    });
  } catch (err) {
    await mosquitto?.stop();
    throw err;
  }
  const deviceUrl = mosquitto === null ? `mqtt://127.0.0.1:${gw.mqtt!.port}` : mosquitto.deviceUrl;
  const deviceOpts: IClientOptions = mosquitto === null ? {} : { ca: mosquitto.caPem, servername: 'localhost', rejectUnauthorized: true };
  const target: Target = {
    name, gw, deviceUrl, mosquitto, deviceOpts,
    async enrolDevice(deviceId, fleet = 'fleet-a') {
      const credential = await enrol(gw, deviceId, fleet);
      if (mosquitto !== null) {
        await waitFor(`${deviceId} accepted by Mosquitto`, async () => {
          const c = await connectRaw(deviceUrl, { ...deviceOpts, clientId: deviceId, username: deviceId, password: credential }).catch(() => null);
          if (c === null) return false;
          await c.endAsync();
          return true;
        }, 10_000, 50);
      }
      return credential;
    },
    connect: (deviceId, credential, opts = {}) =>
      connectDevice(deviceUrl, deviceId, credential, { ...opts, mqtt: { ...deviceOpts, ...opts.mqtt } }),
    async stop() {
      await gw.stop();
      await mosquitto?.stop();
      removeDir(dir);
    },
  };
  return target;
}
