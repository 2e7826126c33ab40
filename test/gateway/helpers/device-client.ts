import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { encodeHello, topicFor, type Hello } from '../../../shared/index';

export interface TestDevice {
  client: MqttClient;
  /** Payloads received per topic kind, in arrival order. */
  received: { update: Buffer[]; keyset: Buffer[] };
  publish(kind: 'hello' | 'ack' | 'report', payload: Uint8Array | Buffer): Promise<void>;
  hello(h?: Partial<Hello>): Promise<void>;
  end(): Promise<void>;
}

/** Connects; rejects with the CONNACK error (or the close) when the broker refuses. */
export function connectRaw(url: string, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

/**
 * A device as firmware would run it: connect with its credential, subscribe to its own update and keyset topics,
 * then say hello.
 */
export async function connectDevice(
  url: string,
  deviceId: string,
  credential: string,
  opts: { hello?: Partial<Hello> | false; mqtt?: IClientOptions } = {},
): Promise<TestDevice> {
  const client = await connectRaw(url, { clientId: deviceId, username: deviceId, password: credential, ...opts.mqtt });
  const received = { update: [] as Buffer[], keyset: [] as Buffer[] };
  client.on('message', (topic, payload) => {
    if (topic === topicFor(deviceId, 'update')) received.update.push(payload);
    if (topic === topicFor(deviceId, 'keyset')) received.keyset.push(payload);
  });
  await client.subscribeAsync([topicFor(deviceId, 'update'), topicFor(deviceId, 'keyset')], { qos: 1 });
  const device: TestDevice = {
    client,
    received,
    publish: async (kind, payload) => {
      await client.publishAsync(topicFor(deviceId, kind), Buffer.from(payload), { qos: 1 });
    },
    hello: (h = {}) =>
      device.publish(
        'hello',
        encodeHello({
          firmware: '1.0.0',
          deviceClass: 'class-a',
          fleet: 'fleet-a',
          installedSeq: 0,
          keysetVersion: 1,
          installedSha256: new Uint8Array(32),
          ...h,
        }),
      ),
    end: () => client.endAsync(),
  };
  if (opts.hello !== false) await device.hello(opts.hello ?? {});
  return device;
}

export function mqttUrl(gw: { mqtt: { port: number } | null }): string {
  if (!gw.mqtt) throw new Error('plain MQTT is off');
  return `mqtt://127.0.0.1:${gw.mqtt.port}`;
}
