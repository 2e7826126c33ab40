/**
 * Load generator of the transport bench (bench/transport.ts), run as its own process so that the devices' MQTT
 * work does not share the gateway's event loop. Connects the devices it is given (MQTT 3.1.1, client id = device
 * id, like firmware), then on "go" each device publishes `acks` QoS 1 acks (new seq each) with up to `window` in flight,
 * and reports when every PUBACK arrived.
 *
 * IPC in: { url, ca?, devices: [{ deviceId, credential }], acks, window } then "go". Out: "ready", { done, ms }.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { encodeAck, topicFor } from '../shared/index';

interface Job {
  url: string;
  ca?: string;
  devices: { deviceId: string; credential: string }[];
  acks: number;
  window: number;
}

const send = (m: unknown) => process.send?.(m);

process.once('message', async (job: Job) => {
  const clients: MqttClient[] = [];
  for (let i = 0; i < job.devices.length; i += 20) {
    const batch = job.devices.slice(i, i + 20);
    clients.push(
      ...(await Promise.all(
        batch.map((d) =>
          mqtt.connectAsync(job.url, {
            clientId: d.deviceId, username: d.deviceId, password: d.credential, protocolVersion: 4, clean: true, reconnectPeriod: 0,
            ...(job.ca !== undefined ? { ca: job.ca, servername: 'localhost' } : {}),
          }),
        ),
      )),
    );
  }
  send('ready');
  process.once('message', async () => {
    const started = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        const id = job.devices[i]!.deviceId;
        let next = 1;
        const lane = async () => {
          while (next <= job.acks) {
            const seq = next++;
            const payload = Buffer.from(encodeAck({ seq, sha256: new Uint8Array(32).fill(seq & 0xff), status: 'applied' }));
            await c.publishAsync(topicFor(id, 'ack'), payload, { qos: 1 });
          }
        };
        await Promise.all(Array.from({ length: job.window }, lane));
      }),
    );
    send({ done: job.devices.length * job.acks, ms: performance.now() - started });
    await Promise.all(clients.map((c) => c.endAsync()));
    process.exit(0);
  });
});
