import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { encodeAck, envelopeSha256, topicFor, toHex } from '../../shared/index';
import { connectRaw } from '../gateway/helpers/device-client';
import { api, pinsetDraft } from '../gateway/helpers/test-gateway';
import { waitFor } from '../support/wait-for';
import { startTarget, type Target, type TargetName } from './targets';

/**
 * The SPEC §6 contract of a device transport, run against both: the embedded aedes broker and a real Mosquitto 2.
 * Where the brokers differ, the case states what each one does (`expected[target.name]`) instead of skipping.
 */

// Ingest batches are flushed every 300 ms here: a PUBACK sent before the commit would reach the device
// well before the row exists, which the PUBACK-after-commit case would see.
const FLUSH_MS = 300;

const CONNACK: Record<TargetName, { anonymous: number; wrongCredential: number; unknownDevice: number }> = {
  // MQTT 3.1.1 §3.2.2.3: 5 = not authorised, 4 = bad user name or password
  embedded: { anonymous: 5, wrongCredential: 4, unknownDevice: 4 },
  // Mosquitto answers every failed password check of a 3.1.1 client with 5 (not authorised)
  mosquitto: { anonymous: 5, wrongCredential: 5, unknownDevice: 5 },
};

const ack = (seq: number, status: 'applied' | 'verified' = 'applied') =>
  Buffer.from(encodeAck({ seq, sha256: new Uint8Array(32).fill(seq), status }));

describe.each(['embedded', 'mosquitto'] as const)('device transport contract (SPEC §6): %s', (name) => {
  let t: Target;
  const creds: Record<string, string> = {};
  const device = async (id: string) => (await api(t.gw, 'GET', `/api/devices/${id}`, { token: t.gw.adminToken })).body;

  beforeAll(async () => {
    t = await startTarget(name, { ingest: { flushMs: FLUSH_MS } });
    for (const id of ['dev-a', 'dev-b', 'dev-c', 'dev-r']) creds[id] = await t.enrolDevice(id);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const connackCode = async (opts: Parameters<typeof connectRaw>[1]) => {
    try {
      const c = await connectRaw(t.deviceUrl, { ...t.deviceOpts, ...opts });
      await c.endAsync();
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  };

  it('authenticates every device with its own credential; anonymous, wrong and unknown are refused', async () => {
    expect(await connackCode({ clientId: 'dev-a' })).toBe(CONNACK[name].anonymous);
    expect(await connackCode({ clientId: 'dev-a', username: 'dev-a', password: 'not-the-credential' })).toBe(CONNACK[name].wrongCredential);
    expect(await connackCode({ clientId: 'ghost', username: 'ghost', password: creds['dev-a']! })).toBe(CONNACK[name].unknownDevice);
    expect(await connackCode({ clientId: 'dev-b', username: 'dev-b', password: creds['dev-a']! })).toBe(CONNACK[name].wrongCredential);
    expect(await connackCode({ clientId: 'dev-a', username: 'dev-a', password: creds['dev-a']! })).toBe(0);
  });

  it('a device that says hello is online and gets updates on its own topic only', async () => {
    const a = await t.connect('dev-a', creds['dev-a']!);
    const b = await t.connect('dev-b', creds['dev-b']!, { hello: false });
    // b tries to listen to a's updates: the embedded broker refuses the subscription (SUBACK 0x80); Mosquitto grants
    // it and filters at delivery (the ACL has no read right there), so b never receives a's messages either way
    let granted: number | undefined;
    try {
      granted = (await b.client.subscribeAsync(topicFor('dev-a', 'update'), { qos: 1 }))[0]?.qos;
    } catch (err) {
      granted = (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];
    }
    expect(granted).toBe(name === 'embedded' ? 0x80 : 1);
    const foreign: string[] = [];
    b.client.on('message', (topic) => foreign.push(topic));

    await waitFor('dev-a online', async () => (await device('dev-a')).online === true);
    const created = await api(t.gw, 'POST', '/api/pinsets', { token: t.gw.adminToken, body: pinsetDraft('fleet-a') });
    expect(created.status).toBe(201);
    const sent = await api(t.gw, 'POST', `/api/pinsets/${created.body.id}/deliver`, { token: t.gw.adminToken, body: { deviceIds: ['dev-a'] } });
    expect(sent.body).toMatchObject({ published: 1 });
    const got = await waitFor('dev-a update', () => a.received.update[0]);
    expect(toHex(envelopeSha256(got))).toBe(created.body.sha256);
    // b then publishes its own hello and gets its own copy of the released set, never a's
    await b.hello();
    await waitFor('dev-b hello recorded', async () => (await device('dev-b')).firmware === '1.0.0');
    expect(foreign.filter((topic) => topic !== topicFor('dev-b', 'update') && topic !== topicFor('dev-b', 'keyset'))).toEqual([]);
    await a.end();
    await b.end();
  });

  it("a publish on another device's topic never reaches the gateway; the embedded broker also closes and counts it", async () => {
    const before = (await device('dev-b')).history.length;
    const a = await t.connect('dev-a', creds['dev-a']!, { hello: false });
    const closed = new Promise<void>((r) => a.client.once('close', () => r()));
    if (name === 'embedded') {
      a.client.publish(topicFor('dev-b', 'ack'), ack(7), { qos: 1 });
      await closed;
      await waitFor('E_TOPIC counted for dev-a', async () => (await device('dev-a')).malformed.some((m: { code: string }) => m.code === 'E_TOPIC'));
    } else {
      // Mosquitto PUBACKs and drops a refused MQTT 3.1.1 publish: the gateway never sees it, so cannot count it
      await a.client.publishAsync(topicFor('dev-b', 'ack'), ack(7), { qos: 1 });
      expect(a.client.connected).toBe(true);
      // the same device's next message on its own topic arrives: the refused one would have come first
      await a.client.publishAsync(topicFor('dev-a', 'ack'), ack(8), { qos: 1 });
      await waitFor('dev-a ack 8 recorded', async () => (await device('dev-a')).history.some((h: { seq?: number }) => h.seq === 8));
      expect((await device('dev-a')).malformed).toEqual([]);
      a.client.end(true);
    }
    expect((await device('dev-b')).history.length).toBe(before);
  });

  it('an MQTT 5 device publishing on a foreign topic gets a refusal reason code (Mosquitto: PUBACK 0x87)', async () => {
    if (name === 'embedded') {
      // aedes 1.2 speaks MQTT 3.1.1 only: it refuses protocol level 5 at CONNECT
      const code = await connackCode({ clientId: 'dev-a', username: 'dev-a', password: creds['dev-a']!, protocolVersion: 5 });
      expect(code).not.toBe(0);
      return;
    }
    const c = await mqtt.connectAsync(t.deviceUrl, { ...t.deviceOpts, clientId: 'dev-a', username: 'dev-a', password: creds['dev-a']!, protocolVersion: 5, reconnectPeriod: 0 });
    const err = await c.publishAsync(topicFor('dev-b', 'ack'), ack(9), { qos: 1 }).then(() => null, (e: unknown) => e as { code?: number });
    expect(err?.code).toBe(0x87);
    await c.endAsync();
  });

  it('a payload over 4096 bytes is refused: embedded closes the connection and counts E_SIZE; Mosquitto drops it', async () => {
    const a = await t.connect('dev-a', creds['dev-a']!, { hello: false });
    if (name === 'embedded') {
      const closed = new Promise<void>((r) => a.client.once('close', () => r()));
      a.client.publish(topicFor('dev-a', 'ack'), Buffer.alloc(4097, 0xa0), { qos: 1 });
      await closed;
      a.client.end(true);
      const m = await waitFor('E_SIZE counted', async () => (await device('dev-a')).malformed.find((x: { code: string }) => x.code === 'E_SIZE'));
      expect(m).toMatchObject({ kind: 'publish' });
    } else {
      // message_size_limit 4096 (deploy/mosquitto): a 3.1.1 publish is PUBACKed and not forwarded
      await a.client.publishAsync(topicFor('dev-a', 'ack'), Buffer.alloc(4097, 0xa0), { qos: 1 });
      await a.client.publishAsync(topicFor('dev-a', 'ack'), ack(10), { qos: 1 });
      await waitFor('ack 10 recorded', async () => (await device('dev-a')).history.some((h: { seq?: number }) => h.seq === 10));
      expect((await device('dev-a')).malformed).toEqual([]);
      await a.end();
    }
    // a packet far beyond the limit closes the connection on both (frame guard / max_packet_size)
    const big = await t.connect('dev-a', creds['dev-a']!, { hello: false });
    const closed = new Promise<void>((r) => big.client.once('close', () => r()));
    big.client.publish(topicFor('dev-a', 'report'), Buffer.alloc(200_000, 1), { qos: 0 });
    await closed;
    big.client.end(true);
  });

  it('a QoS 1 message redelivered (DUP) is recorded once', async () => {
    const c = await t.connect('dev-c', creds['dev-c']!, { hello: false });
    const payload = ack(3, 'verified');
    // the same PUBLISH twice, as a device resends it after a lost PUBACK ([MQTT-4.4.0-1]: DUP=1, same packet id)
    await c.client.publishAsync(topicFor('dev-c', 'ack'), payload, { qos: 1 });
    await c.client.publishAsync(topicFor('dev-c', 'ack'), payload, { qos: 1, dup: true });
    await c.client.publishAsync(topicFor('dev-c', 'ack'), ack(4), { qos: 1 });
    await waitFor('ack 4 recorded', async () => (await device('dev-c')).history.some((h: { seq?: number }) => h.seq === 4));
    const acks = (await device('dev-c')).history.filter((h: { type: string; seq?: number }) => h.type === 'ack' && h.seq === 3);
    expect(acks).toHaveLength(1);
    await c.end();
  });

  it('PUBACK only after commit: embedded = the device PUBACK; Mosquitto = the broker owns it, the gateway PUBACKs after commit', async () => {
    const r = await t.connect('dev-r', creds['dev-r']!, { hello: false });
    for (let seq = 20; seq < 25; seq++) {
      await r.client.publishAsync(topicFor('dev-r', 'ack'), ack(seq), { qos: 1 }); // resolves on the device's PUBACK
      const history = (await device('dev-r')).history as { seq?: number }[];
      if (name === 'embedded') {
        // no waiting: the row must already be there (ingest flushes every FLUSH_MS, so an early PUBACK would show)
        expect(history.some((h) => h.seq === seq), `ack ${seq} committed before its PUBACK`).toBe(true);
      } else {
        // Mosquitto PUBACKs the device once the message is in the gateway's shared-subscription session
        // ([MQTT-4.3.2-2]: the broker has accepted ownership); the gateway PUBACKs the broker only after the commit,
        // so an uncommitted message is redelivered to whoever reclaims the session (test/transport/backend-kill.test.ts)
        await waitFor(`ack ${seq} committed`, async () => ((await device('dev-r')).history as { seq?: number }[]).some((h) => h.seq === seq));
      }
    }
    await r.end();
  });

  it('presence: a device that drops its connection goes offline (Mosquitto: through the status will of the presence extension)', async () => {
    const will = { topic: 'pins/v1/dev-c/status', payload: Buffer.from('offline'), qos: 1 as const, retain: false };
    const c = await t.connect('dev-c', creds['dev-c']!, { mqtt: { will } });
    await waitFor('dev-c online', async () => (await device('dev-c')).online === true);
    c.client.stream.destroy(); // power loss: no DISCONNECT, so the broker publishes the will ([MQTT-3.1.2-8])
    await waitFor('dev-c offline', async () => (await device('dev-c')).online === false);
    c.client.end(true);
    // a clean disconnect discards the will ([MQTT-3.14.4-3]): the extension publishes "offline" itself first
    const again = await t.connect('dev-c', creds['dev-c']!, { mqtt: { will } });
    await waitFor('dev-c online again', async () => (await device('dev-c')).online === true);
    await again.client.publishAsync('pins/v1/dev-c/status', 'offline', { qos: 1 });
    await again.end();
    await waitFor('dev-c offline after a clean disconnect', async () => (await device('dev-c')).online === false);
    // the extension is accepted, never counted as a refused publish
    expect((await device('dev-c')).malformed).toEqual([]);
  });

  it('decommissioning revokes the device at the broker within seconds: its connection closes, reconnects are refused', async () => {
    const id = 'dev-gone';
    const cred = await t.enrolDevice(id);
    const d = await t.connect(id, cred);
    await waitFor(`${id} online`, async () => (await device(id)).online === true);
    const closed = new Promise<void>((r) => d.client.once('close', () => r()));
    const res = await api(t.gw, 'POST', `/api/devices/${id}/decommission`, { token: t.gw.adminToken, body: { reason: 'revocation test' } });
    expect(res.status).toBe(200);
    await closed;
    d.client.end(true);
    expect(await connackCode({ clientId: id, username: id, password: cred })).toBe(name === 'embedded' ? 5 : 5);
  });
});

