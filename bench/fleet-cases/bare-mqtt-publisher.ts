/**
 * Child process of the fleet bench: the minimal publisher of the bare Mosquitto baseline (issue 14). One MQTT 5
 * client on Mosquitto's backend listener with the gateway's user (deploy/mosquitto/acl lets it write every update
 * topic and read every ack topic): it sends the envelope to each device's update topic (QoS 1) and counts the
 * acks. No registry, no rollout engine, no commit before the PUBACK.
 */
import mqtt from 'mqtt';
import { decodeAck, parseTopic, topicFor } from '../../shared/index';
import { AckCounter, paced, type BareChildMessage, type BareParentMessage } from './bare-ipc';

interface Config {
  readonly url: string;
  readonly caPem: string;
  readonly username: string;
  readonly password: string;
}

const send = (m: BareChildMessage) => process.send?.(m);
const config = JSON.parse(process.argv[2] ?? '{}') as Config;
let seq = 0;
const counter = new AckCounter(() => seq);
let stopped = false;

const client = await mqtt.connectAsync(config.url, {
  protocolVersion: 5, clientId: 'bare-publisher', username: config.username, password: config.password, clean: true,
  ca: config.caPem, reconnectPeriod: 1000, connectTimeout: 30_000, properties: { receiveMaximum: 65535 },
});
client.on('message', (topic, payload) => {
  const t = parseTopic(topic);
  if (t === null || t.kind !== 'ack') return;
  const r = decodeAck(new Uint8Array(payload));
  counter.add(t.deviceId, r.ok ? r.value : null);
});
await client.subscribeAsync('pins/v1/+/ack', { qos: 1 });

const report = setInterval(() => send({ type: 'acks', ...counter.snapshot() }), 100);
process.on('message', (m: BareParentMessage) => {
  if (m.type === 'stop') {
    stopped = true;
    clearInterval(report);
    void client.endAsync().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
    return;
  }
  seq = m.seq;
  const payload = Buffer.from(m.envelopeB64, 'base64');
  void paced(m.deviceIds, m.ratePerSec, (id) => {
    client.publish(topicFor(id, 'update'), payload, { qos: 1 }, (err) => {
      if (err) send({ type: 'error', message: `publish to ${id}: ${err.message}` });
    });
    counter.published++;
  }, () => stopped);
});
send({ type: 'ready', mqttsPort: 0, httpPort: 0 });
