import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fetchServerPins, toBase64, toHex } from '../../shared/index';
import { writeSignerKey } from '../../gateway/secrets/signer-keys';
import { brokerAttempts, envelopeAttempts, formatTable } from '../../device-sim/rogue';
import { api, startTestGateway, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor as waitUntil } from '../support/wait-for';
import { backupPin, DEVICE_CLASS, FLEET, makePinSet, makeSigners, sign } from './support/fixtures';
import { connectGateway, type GatewaySide } from './support/gateway-client';
import { startDeviceBroker, type DeviceBroker } from './support/device-broker';
import { harness, tempDir, type Harnessed } from './support/harness';
import { makeCert } from './support/pki';
import { waitFor } from './support/wait';

/**
 * The rogue publisher against the real brokers: the gateway's embedded broker (its own SPEC §6 ACL) and Mosquitto
 * with the repo's configuration (deploy/mosquitto). Mosquitto grants and PUBACKs what it then filters, so there the
 * rows expect that, and the effect is what counts: nothing reaches the victim, nothing spoofed reaches the gateway.
 */
describe.each(['embedded', 'mosquitto'] as const)('rogue publisher against the %s broker', (name) => {
  const dir = tempDir(`device-sim-rogue-${name}`);
  const signers = makeSigners();
  let genuine: { v1: Uint8Array; v2: Uint8Array; expired: Uint8Array };
  let port = 0;
  let rogueCredential = 'stolen';
  let victim: Harnessed;
  let gateway: TestGateway | undefined; // embedded: the real gateway
  let broker: DeviceBroker | undefined; // mosquitto: the broker, with a backend client as the gateway side
  let gw: GatewaySide | undefined;
  /** Acks of the victim the gateway side recorded. */
  let victimAcks: () => Promise<{ seq: number; status: string }[]>;
  const victimAckSeqs = async () => (await victimAcks()).map((a) => a.seq);

  beforeAll(async () => {
    const cert = makeCert(`${dir}/pki`, 'broker', ['mqtt.example.com']);
    const now = Math.floor(Date.now() / 1000);
    genuine = {
      v1: sign(makePinSet(1, [cert.pin, backupPin(1)]), signers.live),
      v2: sign(makePinSet(2, [cert.pin, backupPin(2)]), signers.live),
      expired: sign(makePinSet(9, [cert.pin, backupPin(3)], { issuedAt: now - 7200, notAfter: now - 3600 }), signers.live),
    };
    let victimCredential = 'v-cred';
    if (name === 'embedded') {
      // the gateway signs with the test's live key and trusts its backup: the devices' keyset v1
      mkdirSync(`${dir}/gw`, { recursive: true });
      writeSignerKey(`${dir}/gw/signer.key`, signers.live);
      let mqttsPort = 0;
      const g = await startTestGateway(`${dir}/gw`, {
        tls: { certFile: cert.certFile, keyFile: cert.keyFile }, signerKeyFile: `${dir}/gw/signer.key`,
        backupPublicKeys: [toHex(signers.backup.publicKey)],
      }, {
        // the live check of mqtt.example.com reaches the gateway's own MQTT/TLS listener
        fetchServerPins: (host, _port, o) => fetchServerPins('127.0.0.1', mqttsPort, { ...o, servername: host }),
      });
      gateway = g;
      mqttsPort = g.mqtts.port;
      port = g.mqtts.port;
      const enrol = async (deviceId: string) =>
        (await api(g, 'POST', '/api/devices', { token: g.adminToken, body: { deviceId, fleet: FLEET, deviceClass: DEVICE_CLASS } })).body.credential as string;
      rogueCredential = await enrol('rogue-1');
      victimCredential = await enrol('victim-1');
      victimAcks = async () =>
        ((await api(g, 'GET', '/api/devices/victim-1', { token: g.adminToken })).body.history as { type: string; seq: number; status: string }[])
          .filter((h) => h.type === 'ack');
    } else {
      broker = await startDeviceBroker({ certFile: cert.certFile, keyFile: cert.keyFile, devices: new Map([['rogue-1', rogueCredential], ['victim-1', victimCredential]]) });
      port = broker.port;
      const side = await connectGateway(broker.gatewayPort, broker.gateway.username, broker.gateway.password);
      gw = side;
      victimAcks = async () => side.acks.filter((a) => a.deviceId === 'victim-1').map((a) => a.ack);
    }
    victim = harness({ id: 'victim-1', credential: victimCredential, dataDir: `${dir}/data`, port, keyset: signers.keyset, factoryEnvelope: genuine.v1 });
    await victim.device.start();
    await waitFor(() => victim.device.conn === 'online', 'victim online');
    if (gateway !== undefined) {
      const g = gateway;
      for (const env of [genuine.v1, genuine.v2]) {
        const up = await api(g, 'POST', '/api/pinsets/envelope', { token: g.adminToken, body: { envelope: toBase64(env) } });
        expect(up.status, JSON.stringify(up.body)).toBe(201);
        if (up.body.seq === 2) {
          const sent = await api(g, 'POST', `/api/pinsets/${up.body.id}/deliver`, { token: g.adminToken, body: { deviceIds: ['victim-1'] } });
          expect(sent.body).toMatchObject({ published: 1 });
        }
      }
    } else {
      await gw!.publishUpdate('victim-1', genuine.v2);
    }
    await waitFor(() => victim.device.state.seq === 2 && victim.device.state.verified && victim.device.update.kind === 'verified', 'victim on seq 2');
    // the device sends its "verified" ack after its own state change: wait until the gateway side has it
    await waitUntil("the victim's verified ack at the gateway", async () => (await victimAcks()).some((a) => a.seq === 2 && a.status === 'verified'));
  });

  afterAll(async () => {
    await victim?.device.stop();
    await gw?.close();
    await broker?.close();
    await gateway?.stop();
  });

  it('gets nothing through: every foreign topic, wildcard and spoofed message is refused or filtered', async () => {
    const before = victim.events.length;
    const acksBefore = await victimAckSeqs();
    const rows = await brokerAttempts({
      url: `mqtts://127.0.0.1:${port}`, servername: 'mqtt.example.com', deviceId: 'rogue-1', credential: rogueCredential,
      victimId: 'victim-1', timeoutMs: 3000, ...(name === 'mosquitto' ? { brokerFilters: true } : {}),
    }, genuine.v2);
    process.stdout.write(`${formatTable(rows)}\n`);
    expect(rows.filter((r) => !r.refused)).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    // the embedded broker refuses every attempt outright; Mosquitto grants/PUBACKs some and filters them
    const outright = rows.filter((r) => r.outcome.startsWith('refused') || r.outcome.startsWith('no PUBACK')).length;
    if (name === 'embedded') expect(outright).toBe(rows.length);
    else expect(outright).toBeLessThan(rows.length);
    // the effect: nothing reached the victim, and the gateway saw no spoofed hello/ack for it
    expect(victim.events.slice(before).some((e) => e.type === 'state')).toBe(false);
    expect((await victimAckSeqs()).every((seq) => seq === 1 || seq === 2)).toBe(true);
    expect((await victimAckSeqs()).length).toBe(acksBefore.length);
    expect(victim.device.conn).toBe('online'); // the client-id attempt did not take over the victim's session
  });

  it('hostile envelopes are refused by the device with the expected SPEC §4 code', () => {
    const s = victim.device.state;
    const rows = envelopeAttempts(
      { current: genuine.v2, older: genuine.v1, expired: genuine.expired },
      s.keyset,
      { deviceId: 'victim-1', fleet: FLEET, deviceClass: DEVICE_CLASS, installedSeq: s.seq, keysetVersion: s.keyset.version, ...(s.sha256 ? { installedSha256: s.sha256 } : {}) },
      Math.floor(Date.now() / 1000),
    );
    process.stdout.write(`${formatTable(rows)}\n`);
    expect(rows.map((r) => r.outcome)).toEqual([
      'rejected E_SIG', 'rejected E_ROLLBACK', 'rejected E_EXPIRED', 'rejected E_KID', 'rejected E_SIG', 'rejected E_NOT_COSE',
    ]);
    expect(rows.every((r) => r.refused)).toBe(true);
  });
});
