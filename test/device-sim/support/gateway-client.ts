import mqtt, { type MqttClient } from 'mqtt';
import { decodeAck, decodeHello, decodeReport, parseTopic, topicFor, type Ack, type Hello, type Report } from '../../../shared/index';

/** The gateway's side of SPEC §6 for tests: records hellos, acks and reports; publishes updates and keysets. */
export interface GatewaySide {
  readonly hellos: Array<{ deviceId: string; hello: Hello }>;
  readonly acks: Array<{ deviceId: string; ack: Ack }>;
  readonly reports: Array<{ deviceId: string; report: Report }>;
  publishUpdate(deviceId: string, envelope: Uint8Array): Promise<void>;
  publishKeyset(deviceId: string, envelope: Uint8Array): Promise<void>;
  /** Called on every hello (e.g. to deliver a set the device lacks). */
  onHello?: (deviceId: string, hello: Hello) => void;
  close(): Promise<void>;
}

export async function connectGateway(port: number, username: string, password: string): Promise<GatewaySide> {
  const client: MqttClient = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
    username, password, clientId: `gw-${Math.random().toString(16).slice(2, 8)}`,
    rejectUnauthorized: false, reconnectPeriod: 0, clean: true,
  });
  await client.subscribeAsync(['pins/v1/+/hello', 'pins/v1/+/ack', 'pins/v1/+/report'], { qos: 1 });
  const side: GatewaySide = {
    hellos: [], acks: [], reports: [],
    publishUpdate: async (id, env) => void (await client.publishAsync(topicFor(id, 'update'), Buffer.from(env), { qos: 1 })),
    publishKeyset: async (id, env) => void (await client.publishAsync(topicFor(id, 'keyset'), Buffer.from(env), { qos: 1 })),
    close: async () => void (await client.endAsync()),
  };
  client.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    if (t === null) return;
    const bytes = new Uint8Array(payload);
    if (t.kind === 'hello') {
      const h = decodeHello(bytes);
      if (h.ok) {
        side.hellos.push({ deviceId: t.deviceId, hello: h.value });
        side.onHello?.(t.deviceId, h.value);
      }
    } else if (t.kind === 'ack') {
      const a = decodeAck(bytes);
      if (a.ok) side.acks.push({ deviceId: t.deviceId, ack: a.value });
    } else if (t.kind === 'report') {
      const r = decodeReport(bytes);
      if (r.ok) side.reports.push({ deviceId: t.deviceId, report: r.value });
    }
  });
  return side;
}
