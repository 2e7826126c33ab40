/**
 * A minimal device over real MQTT for the real-gateway dashboard tests: connects with its own credential, says
 * hello, and answers every pin-set update with "applied" then "verified" acks (SPEC §6), as a healthy device would — at
 * once, or when the test releases it (`hold`).
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  encodeAck,
  encodeReport,
  encodeHello,
  envelopeSha256,
  fromHex,
  openSign1,
  pinSetFromCbor,
  topicFor,
} from '../../shared/index';

export interface MqttDevice {
  readonly client: MqttClient;
  /** Seqs this device acknowledged as verified. */
  readonly verified: number[];
  /** While true, updates are kept (not acknowledged) until `release()`: the test paces the rollout. */
  hold: boolean;
  /** Updates received and not yet acknowledged. */
  readonly pending: { seq: number; sha256: Uint8Array }[];
  /** Acknowledges every pending update (applied, then verified). */
  release(): Promise<void>;
  /** Refuses every pending update with a SPEC §4 code (a "rejected" ack). */
  reject(code: string): Promise<void>;
  /** Publishes a pin validation report (SPEC §6): the host served these pins (sha256/… text). */
  report(host: string, servedPins: string[], result?: 'ok' | 'mismatch' | 'fail-open'): Promise<void>;
  end(): Promise<void>;
}

export async function connectMqttDevice(opts: {
  port: number;
  deviceId: string;
  credential: string;
  firmware: string;
  fleet: string;
  deviceClass?: string;
  /** The gateway signer's public key (hex), to open update envelopes. */
  signerPublicKey: string;
  /** Every key of the keyset the device trusts (hex), e.g. with the offline backup signer; default: the signer only. */
  trustedPublicKeys?: readonly string[];
}): Promise<MqttDevice> {
  const { deviceId } = opts;
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${opts.port}`, {
    clientId: deviceId,
    username: deviceId,
    password: opts.credential,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  const verified: number[] = [];
  const pending: { seq: number; sha256: Uint8Array }[] = [];
  const keyset = { version: 1, publicKeys: (opts.trustedPublicKeys ?? [opts.signerPublicKey]).map(fromHex) };
  const ack = async (u: { seq: number; sha256: Uint8Array }) => {
    for (const status of ['applied', 'verified'] as const) {
      await client.publishAsync(topicFor(deviceId, 'ack'), Buffer.from(encodeAck({ seq: u.seq, sha256: u.sha256, status })), { qos: 1 });
    }
    verified.push(u.seq);
  };
  client.on('message', (topic, payload) => {
    if (topic !== topicFor(deviceId, 'update')) return;
    const envelope = new Uint8Array(payload);
    const opened = openSign1(envelope, keyset, 'application/pinset+cbor');
    if (!opened.ok) return;
    const pinset = pinSetFromCbor(opened.value.document);
    if (!pinset.ok) return;
    const update = { seq: pinset.value.seq, sha256: envelopeSha256(envelope) };
    if (device.hold) pending.push(update);
    else void ack(update);
  });
  const device: MqttDevice = {
    client,
    verified,
    hold: false,
    pending,
    release: async () => {
      for (const u of pending.splice(0)) await ack(u);
    },
    reject: async (code) => {
      for (const u of pending.splice(0)) {
        await client.publishAsync(topicFor(deviceId, 'ack'), Buffer.from(encodeAck({ seq: u.seq, sha256: u.sha256, status: 'rejected', code } as Parameters<typeof encodeAck>[0])), { qos: 1 });
      }
    },
    report: async (host, served, result = 'ok') => {
      const servedPins = served.map((p) => new Uint8Array(Buffer.from(p.slice('sha256/'.length), 'base64')));
      const installedSeq = verified[verified.length - 1] ?? 0;
      const bytes = encodeReport({ host, port: 443, result, servedPins, installedSeq, time: Math.floor(Date.now() / 1000) });
      await client.publishAsync(topicFor(deviceId, 'report'), Buffer.from(bytes), { qos: 1 });
    },
    end: () => client.endAsync(true),
  };
  await client.subscribeAsync([topicFor(deviceId, 'update'), topicFor(deviceId, 'keyset')], { qos: 1 });
  const hello = encodeHello({
    firmware: opts.firmware,
    deviceClass: opts.deviceClass ?? 'th-basic',
    fleet: opts.fleet,
    installedSeq: 0,
    keysetVersion: 1,
    installedSha256: new Uint8Array(32),
  });
  await client.publishAsync(topicFor(deviceId, 'hello'), Buffer.from(hello), { qos: 1 });
  return device;
}
