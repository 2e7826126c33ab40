import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAttempts, envelopeAttempts, formatTable } from '../../device-sim/rogue';
import { backupPin, DEVICE_CLASS, FLEET, makePinSet, makeSigners, sign } from './support/fixtures';
import { connectGateway, type GatewaySide } from './support/gateway-client';
import { harness, tempDir, type Harnessed } from './support/harness';
import { makeCert } from './support/pki';
import { startTestBroker, type TestBroker } from './support/test-broker';
import { waitFor } from './support/wait';

const GW = { username: 'gateway', password: 'gw-secret' };
let broker: TestBroker;
let gw: GatewaySide;
let victim: Harnessed;

describe('rogue publisher', () => {
  const dir = tempDir('device-sim-rogue');
  const signers = makeSigners();
  let genuine: { v1: Uint8Array; v2: Uint8Array; expired: Uint8Array };

  beforeAll(async () => {
    const cert = makeCert(`${dir}/pki`, 'broker', ['mqtt.example.com']);
    const now = Math.floor(Date.now() / 1000);
    genuine = {
      v1: sign(makePinSet(1, [cert.pin, backupPin(1)]), signers.live),
      v2: sign(makePinSet(2, [cert.pin, backupPin(2)]), signers.live),
      expired: sign(makePinSet(9, [cert.pin, backupPin(3)], { issuedAt: now - 7200, notAfter: now - 3600 }), signers.live),
    };
    broker = await startTestBroker({
      certPem: cert.certPem, keyPem: cert.keyPem, gateway: GW, devices: new Map([['rogue-1', 'stolen'], ['victim-1', 'v-cred']]),
    });
    gw = await connectGateway(broker.port, GW.username, GW.password);
    victim = harness({ id: 'victim-1', credential: 'v-cred', dataDir: `${dir}/data`, port: broker.port, keyset: signers.keyset, factoryEnvelope: genuine.v1 });
    await victim.device.start();
    await waitFor(() => victim.device.conn === 'online', 'victim online');
    await gw.publishUpdate('victim-1', genuine.v2);
    await waitFor(() => victim.device.state.seq === 2 && victim.device.state.verified && victim.device.update.kind === 'verified', 'victim on seq 2');
  });

  afterAll(async () => {
    await victim?.device.stop();
    await gw?.close();
    await broker?.close();
  });

  it('is refused by the broker for every foreign topic, wildcard and spoofed message', async () => {
    const before = victim.events.length;
    const rows = await brokerAttempts({
      url: `mqtts://127.0.0.1:${broker.port}`, servername: 'mqtt.example.com', deviceId: 'rogue-1', credential: 'stolen',
      victimId: 'victim-1', timeoutMs: 3000,
    }, genuine.v2);
    process.stdout.write(`${formatTable(rows)}\n`);
    expect(rows.filter((r) => !r.refused)).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    // Nothing reached the victim, and the gateway saw no spoofed hello/ack from it.
    expect(victim.events.slice(before).some((e) => e.type === 'state')).toBe(false);
    expect(gw.acks.filter((a) => a.deviceId === 'victim-1').every((a) => a.ack.seq === 2 || a.ack.seq === 1)).toBe(true);
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
