import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, summaryLine, type FleetHandle } from '../../device-sim/fleet-runner';
import { NO_FAULTS } from '../../device-sim/faults';
import { toBase64, toHex } from '../../shared/index';
import { backupPin, BROKER_HOST, DEVICE_CLASS, FLEET, makePinSet, makeSigners, sign } from './support/fixtures';
import { connectGateway, type GatewaySide } from './support/gateway-client';
import { tempDir } from './support/harness';
import { makeCert } from './support/pki';
import { startDeviceBroker, type DeviceBroker } from './support/device-broker';
import { waitFor } from './support/wait';

const N = 50;
let broker: DeviceBroker;
let gw: GatewaySide;
let fleet: FleetHandle | undefined;

afterAll(async () => {
  await fleet?.stop();
  await gw?.close();
  await broker?.close();
});

describe('fleet runner: devices spread over worker processes', () => {
  const dir = tempDir('device-sim-fleet');
  const signers = makeSigners();
  const identities = Array.from({ length: N }, (_, i) => ({
    deviceId: `fleet-dev-${i}`, credential: `cred-${i}`, fleet: FLEET, deviceClass: DEVICE_CLASS,
  }));

  beforeAll(async () => {
    const cert = makeCert(`${dir}/pki`, 'broker', [BROKER_HOST]);
    broker = await startDeviceBroker({
      certFile: cert.certFile, keyFile: cert.keyFile, devices: new Map(identities.map((d) => [d.deviceId, d.credential])),
    });
    gw = await connectGateway(broker.gatewayPort, broker.gateway.username, broker.gateway.password);
    const next = sign(makePinSet(2, [cert.pin, backupPin(9)]), signers.live);
    // The gateway's part in this test: deliver seq 2 to every device whose hello shows an older set.
    gw.onHello = (id, hello) => {
      if (hello.installedSeq < 2) void gw.publishUpdate(id, next);
    };
    fleet = startFleet({
      identities, workers: 2, connectRate: 200,
      broker: { hostname: BROKER_HOST, address: '127.0.0.1', port: broker.port },
      keyset: { version: 1, publicKeys: signers.keyset.publicKeys.map(toHex) },
      factoryEnvelope: toBase64(sign(makePinSet(1, [cert.pin, backupPin(1)]), signers.live)),
      hostMap: [], dataDir: `${dir}/devices`, faults: NO_FAULTS, progressEveryMs: 200,
      fsync: true, keepaliveSec: 60, reconnectMinMs: 100, reconnectMaxMs: 1000,
    });
  });

  it('connects 50 devices from 2 workers, which apply and verify the delivered set', async () => {
    const f = fleet as FleetHandle;
    await f.ready;
    // Both conditions: a device may briefly reconnect under load (its disconnect reasons are counted).
    await waitFor(() => f.totals().update.verified === N && f.totals().conn.online === N, `${N} devices verified and online`, 45_000);
    const t = f.totals();
    process.stdout.write(`${JSON.stringify(t.counters)}\n`);
    expect(t.devices).toBe(N);
    expect(t.conn.online).toBe(N);
    expect(t.counters.rejected).toBe(0);
    expect(f.errors).toEqual([]);
    // The gateway side sees every device's "verified" ack for seq 2 (they travel after the device's own state change).
    const acked = () => new Set(gw.acks.filter((a) => a.ack.seq === 2 && a.ack.status === 'verified').map((a) => a.deviceId)).size;
    await waitFor(() => acked() === N, `${N} verified acks at the gateway`);
    process.stdout.write(`${summaryLine(t)}\n`);
  });
});
