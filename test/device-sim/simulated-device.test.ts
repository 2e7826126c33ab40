import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../device-sim/clock';
import { tempPathFor } from '../../device-sim/atomic-write';
import { envelopeSha256, generateSignerKey, signKeyset, toHex } from '../../shared/index';
import { backupPin, makePinSet, makeSigners, sign } from './support/fixtures';
import { connectGateway, type GatewaySide } from './support/gateway-client';
import { harness, tempDir, type Harnessed } from './support/harness';
import { makeCert, type TestCert } from './support/pki';
import { startDeviceBroker, type DeviceBroker } from './support/device-broker';
import { waitFor } from './support/wait';

const signers = makeSigners();
const dir = tempDir('device-sim-test');
const devices = new Map<string, string>();
let certA: TestCert; // the broker's real key
let certB: TestCert; // another key (impostor / next key)
let broker: DeviceBroker;
let gw: GatewaySide;
let b2: DeviceBroker | undefined; // a second broker whose served key the pinning cases switch
let factory: Uint8Array; // the factory pin set (seq 1) every device leaves the factory with
const running: Harnessed[] = [];

function enrol(id: string): string {
  const credential = `cred-${id}`;
  devices.set(id, credential);
  // the broker accepts it once its password file is reloaded; until then the device's CONNECT is refused and retried
  void broker.enrol(id, credential);
  void b2?.enrol(id, credential);
  return credential;
}

function device(id: string, extra: Partial<Parameters<typeof harness>[0]> = {}): Harnessed {
  const h = harness({
    id, credential: devices.get(id) ?? enrol(id), dataDir: `${dir}/data`, port: broker.port, keyset: signers.keyset,
    factoryEnvelope: factory,
    ...extra,
  });
  running.push(h);
  return h;
}

// On its first connection a device also verifies its factory set (seq 1) and may ack that: tests look at the
// sets they publish.
const acksOf = (id: string, minSeq = 2) => gw.acks.filter((a) => a.deviceId === id && (a.ack.seq >= minSeq || a.ack.status === 'rejected')).map((a) => a.ack);
const kinds = (h: Harnessed) => h.events.flatMap((e) => (e.type === 'state' ? [e.state.kind] : []));

beforeAll(async () => {
  certA = makeCert(`${dir}/pki`, 'a', ['mqtt.example.com']);
  certB = makeCert(`${dir}/pki`, 'b', ['mqtt.example.com']);
  factory = sign(makePinSet(1, [certA.pin, backupPin(1)]), signers.live);
  broker = await startDeviceBroker({ certFile: certA.certFile, keyFile: certA.keyFile, devices });
  gw = await connectGateway(broker.gatewayPort, broker.gateway.username, broker.gateway.password);
});

afterAll(async () => {
  for (const h of running) await h.device.stop();
  await gw.close();
  await broker.close();
});

describe('simulated device against the real broker (Mosquitto 2, deploy/mosquitto) over TLS', () => {
  it('says hello, applies a valid set, then verifies it by a TLS handshake (applied → verified)', async () => {
    const h = device('dev-valid');
    await h.device.start();
    await waitFor(() => gw.hellos.some((x) => x.deviceId === 'dev-valid'), 'hello');
    expect(gw.hellos.find((x) => x.deviceId === 'dev-valid')?.hello.installedSeq).toBe(1);
    const env = sign(makePinSet(2, [certA.pin, backupPin(2)]), signers.live);
    await gw.publishUpdate('dev-valid', env);
    await waitFor(() => acksOf('dev-valid').some((a) => a.status === 'verified'), 'verified ack');
    expect(acksOf('dev-valid').map((a) => [a.seq, a.status])).toEqual([[2, 'applied'], [2, 'verified']]);
    expect(kinds(h).slice(-6)).toEqual(['received', 'checking', 'persisting', 'applied', 'verifying', 'verified']);
    const onDisk = JSON.parse(await readFile(h.storage.path, 'utf8')) as { body: { seq: number; verified: boolean } };
    expect(onDisk.body).toMatchObject({ seq: 2, verified: true });
    await waitFor(() => gw.reports.some((r) => r.deviceId === 'dev-valid' && r.report.result === 'ok'), 'ok report');
  });

  it('a second delivery of the same set while it is being verified does not leave it unverified', async () => {
    // e.g. the gateway's hello path and a rollout both answer one hello: the same bytes arrive twice
    const h = device('dev-twice');
    await h.device.start();
    await waitFor(() => h.device.conn === 'online', 'online');
    const env = sign(makePinSet(2, [certA.pin, backupPin(4)]), signers.live);
    await Promise.all([gw.publishUpdate('dev-twice', env), gw.publishUpdate('dev-twice', env)]);
    await waitFor(() => acksOf('dev-twice').some((a) => a.status === 'verified'), 'verified ack');
    expect(kinds(h)).toContain('duplicate');
    expect(h.device.state).toMatchObject({ seq: 2, verified: true });
  });

  it('rejects tampered, expired and rollback sets with the exact SPEC §4 code', async () => {
    const h = device('dev-reject', { factoryEnvelope: sign(makePinSet(5, [certA.pin, backupPin(1)]), signers.live) });
    await h.device.start();
    await waitFor(() => h.device.conn === 'online', 'online');
    const now = Math.floor(Date.now() / 1000);
    const tampered = sign(makePinSet(6, [certA.pin, backupPin(3)]), signers.live);
    tampered[tampered.length - 70] = (tampered[tampered.length - 70] ?? 0) ^ 1; // inside the payload
    const expired = sign(makePinSet(7, [certA.pin, backupPin(3)], { issuedAt: now - 1000, notAfter: now - 10 }), signers.live);
    const rollback = sign(makePinSet(4, [certA.pin, backupPin(3)]), signers.live);
    const stranger = sign(makePinSet(8, [certA.pin, backupPin(3)]), generateSignerKey());
    for (const env of [tampered, expired, rollback, stranger]) await gw.publishUpdate('dev-reject', env);
    const rejected = () => acksOf('dev-reject').filter((a) => a.status === 'rejected');
    await waitFor(() => rejected().length === 4, '4 rejected acks');
    expect(rejected().map((a) => [a.status, a.code])).toEqual([
      ['rejected', 'E_SIG'], ['rejected', 'E_EXPIRED'], ['rejected', 'E_ROLLBACK'], ['rejected', 'E_KID'],
    ]);
    expect(rejected().map((a) => a.seq)).toEqual([6, 7, 4, 8]); // the claimed seq labels the ack
    expect(h.device.state.seq).toBe(5);
  });

  it('treats a re-delivery of the same bytes as idempotent: no second apply', async () => {
    const h = device('dev-idem');
    await h.device.start();
    await waitFor(() => h.device.conn === 'online', 'online');
    const env = sign(makePinSet(2, [certA.pin, backupPin(4)]), signers.live);
    await gw.publishUpdate('dev-idem', env);
    await waitFor(() => acksOf('dev-idem').some((a) => a.status === 'verified'), 'verified');
    await gw.publishUpdate('dev-idem', env);
    await waitFor(() => kinds(h).includes('duplicate'), 'duplicate');
    await waitFor(() => acksOf('dev-idem').length === 3, 'third ack');
    expect(acksOf('dev-idem').map((a) => a.status)).toEqual(['applied', 'verified', 'verified']);
    expect(kinds(h).filter((k) => k === 'persisting')).toHaveLength(1);
  });

  it('a crash between receipt and persist leaves the old set intact; the restarted device applies it', async () => {
    const h = device('dev-crash', { faults: { crashRestartMs: 0 } });
    await h.device.start();
    await waitFor(() => h.device.conn === 'online', 'online');
    // the factory set (seq 1) lives in ROM until its first verification is stored: wait for that write, or the update
    // below could arrive first and the crash would leave no file at all (a race that Mosquitto's timing exposed)
    await waitFor(() => existsSync(h.storage.path), 'factory set verified and stored');
    const env = sign(makePinSet(2, [certA.pin, backupPin(5)]), signers.live);
    await gw.publishUpdate('dev-crash', env);
    await waitFor(() => h.events.some((e) => e.type === 'crash'), 'crash');
    expect(existsSync(tempPathFor(h.storage.path))).toBe(true); // the new set got as far as the temp file
    const onDisk = JSON.parse(await readFile(h.storage.path, 'utf8')) as { body: { seq: number } };
    expect(onDisk.body.seq).toBe(1); // never a half-written set
    expect(acksOf('dev-crash').filter((a) => a.seq === 2)).toEqual([]);
    const again = device('dev-crash'); // power back on: same flash, no crash fault this time
    await again.device.start();
    const booted = again.events.find((e) => e.type === 'booted');
    expect(booted).toMatchObject({ removedTemp: true, firstBoot: false });
    expect(booted && 'corrupted' in booted ? booted.corrupted : undefined).toBeUndefined();
    // No PUBACK was sent, so the broker re-delivers the update on the persistent session ([MQTT-4.4.0-1]).
    await waitFor(() => acksOf('dev-crash').some((a) => a.status === 'verified'), 'verified after restart');
    expect(again.device.state.seq).toBe(2);
  });

  it('detects corrupted storage, falls back to the factory set and announces it in the hello', async () => {
    const h = device('dev-corrupt');
    await h.device.start();
    await waitFor(() => h.device.conn === 'online', 'online');
    await gw.publishUpdate('dev-corrupt', sign(makePinSet(3, [certA.pin, backupPin(6)]), signers.live));
    await waitFor(() => acksOf('dev-corrupt').some((a) => a.status === 'verified'), 'verified');
    expect(h.device.state.seq).toBe(3);
    await h.device.stop();
    const again = device('dev-corrupt', { faults: { corruptStorage: true } });
    await again.device.start();
    const booted = again.events.find((e) => e.type === 'booted');
    expect(booted && 'corrupted' in booted ? booted.corrupted : undefined).toMatch(/checksum|layout|JSON/);
    expect(again.device.state.seq).toBe(1);
    await waitFor(() => gw.hellos.filter((x) => x.deviceId === 'dev-corrupt').length === 2, 'second hello');
    const last = gw.hellos.filter((x) => x.deviceId === 'dev-corrupt').at(-1)?.hello;
    expect(last?.installedSeq).toBe(1); // the gateway sees the regression to the factory set and re-delivers
    expect(toHex(last?.installedSha256 ?? new Uint8Array())).toBe(toHex(envelopeSha256(factory)));

  });

  it('accepts a keyset rotation to version + 1 only, and still trusts its installed set afterwards', async () => {
    const h = device('dev-keyset');
    await h.device.start();
    await waitFor(() => h.device.conn === 'online', 'online');
    const [n1, n2] = [generateSignerKey(), generateSignerKey()];
    const now = Math.floor(Date.now() / 1000);
    const doc = (version: number) => ({ format: 1 as const, version, publicKeys: [n1.publicKey, n2.publicKey], issuedAt: now });
    await gw.publishKeyset('dev-keyset', signKeyset(doc(3), signers.live)); // skips a version
    await gw.publishKeyset('dev-keyset', signKeyset(doc(2), signers.live));
    await gw.publishKeyset('dev-keyset', signKeyset(doc(2), n1)); // replay of the same version
    await waitFor(() => h.events.filter((e) => e.type === 'keyset').length === 3, '3 keyset outcomes');
    expect(h.events.flatMap((e) => (e.type === 'keyset' ? [[e.ok, e.version ?? e.code]] : []))).toEqual([
      [false, 'E_KEYSET'], [true, 2], [false, 'E_KEYSET'],
    ]);
    await waitFor(() => gw.hellos.filter((x) => x.deviceId === 'dev-keyset').some((x) => x.hello.keysetVersion === 2), 'hello v2');
    await h.device.stop();
    const again = device('dev-keyset');
    await again.device.start();
    const booted = again.events.find((e) => e.type === 'booted');
    expect(booted && 'corrupted' in booted ? booted.corrupted : undefined).toBeUndefined();
    expect(again.device.state.keyset.version).toBe(2);
    // Sets signed by the old key are now refused; sets by the new key are applied.
    await waitFor(() => again.device.conn === 'online', 'online again');
    await gw.publishUpdate('dev-keyset', sign(makePinSet(2, [certA.pin, backupPin(7)], { keysetVersion: 2 }), signers.live));
    await gw.publishUpdate('dev-keyset', sign(makePinSet(3, [certA.pin, backupPin(7)], { keysetVersion: 2 }), n2));
    await waitFor(() => acksOf('dev-keyset').some((a) => a.status === 'verified'), 'verified');
    expect(acksOf('dev-keyset').map((a) => [a.seq, a.status, a.code])).toEqual([
      [2, 'rejected', 'E_KID'], [3, 'applied', undefined], [3, 'verified', undefined],
    ]);
    expect(toHex(again.device.state.sha256 ?? new Uint8Array())).toHaveLength(64);
  });

  it('fault injection: forced reject code, clock skew (E_NOT_YET), flapping (hello on every connect)', async () => {
    const rej = device('dev-f-reject', { faults: { rejectCode: 'E_WOULD_BRICK' } });
    const skew = device('dev-f-skew', { faults: { clockSkewSeconds: -3600 } });
    const flap = device('dev-f-flap', { faults: { flapMs: 150 } });
    for (const h of [rej, skew, flap]) await h.device.start();
    await waitFor(() => rej.device.conn === 'online' && skew.device.conn === 'online', 'online');
    const env = sign(makePinSet(2, [certA.pin, backupPin(8)], { issuedAt: Math.floor(Date.now() / 1000) }), signers.live);
    await gw.publishUpdate('dev-f-reject', env);
    await gw.publishUpdate('dev-f-skew', env);
    await waitFor(() => acksOf('dev-f-reject').length > 0 && acksOf('dev-f-skew').length > 0, 'both acks');
    expect(acksOf('dev-f-reject')[0]).toMatchObject({ status: 'rejected', code: 'E_WOULD_BRICK', seq: 2 });
    expect(acksOf('dev-f-skew')[0]).toMatchObject({ status: 'rejected', code: 'E_NOT_YET', seq: 2 });
    await waitFor(() => gw.hellos.filter((x) => x.deviceId === 'dev-f-flap').length >= 3, 'three hellos from a flapping device');
    expect(flap.events.filter((e) => e.type === 'online').length).toBeGreaterThanOrEqual(3);
  });

  describe('pinning the broker key on connect', () => {
    beforeAll(async () => {
      b2 = await startDeviceBroker({ certFile: certA.certFile, keyFile: certA.keyFile, devices });
    });
    afterAll(async () => {
      for (const h of running.splice(0)) await h.device.stop();
      await b2?.close();
      b2 = undefined;
    });

    it('refuses a broker key it does not pin and reports the mismatch on the next good connection', async () => {
      const gw2 = await connectGateway(b2!.gatewayPort, b2!.gateway.username, b2!.gateway.password);
      const h = device('dev-mismatch', { port: b2!.port, factoryEnvelope: sign(makePinSet(1, [certB.pin, backupPin(1)]), signers.live) });
      await h.device.start();
      await waitFor(() => h.events.some((e) => e.type === 'refused'), 'refused');
      expect(gw2.hellos.some((x) => x.deviceId === 'dev-mismatch')).toBe(false); // no MQTT byte reached the broker
      await b2!.setCert(certB.certFile, certB.keyFile); // the broker now serves the pinned key
      await waitFor(() => gw2.reports.some((r) => r.deviceId === 'dev-mismatch' && r.report.result === 'mismatch'), 'mismatch report');
      const r = gw2.reports.find((x) => x.deviceId === 'dev-mismatch' && x.report.result === 'mismatch')?.report;
      expect(r?.servedPins.map(toHex)).toEqual([toHex(certA.pin)]);
      expect(r).toMatchObject({ host: 'mqtt.example.com', port: b2!.port, installedSeq: 1 });
      await gw2.close();
      await b2!.setCert(certA.certFile, certA.keyFile);
    });

    it('falls back to CA validation after failOpenAfter (fake clock) and reports "fail-open"', async () => {
      const gw2 = await connectGateway(b2!.gatewayPort, b2!.gateway.username, b2!.gateway.password);
      const t0 = Date.now();
      const clock = new ManualClock(t0);
      const failOpenAfter = Math.floor(t0 / 1000) + 3600;
      const h = device('dev-failopen', {
        port: b2!.port, clock, ca: certA.certPem,
        factoryEnvelope: sign(makePinSet(1, [certB.pin, backupPin(1)], { failOpenAfter }), signers.live),
      });
      await h.device.start();
      await waitFor(() => h.events.filter((e) => e.type === 'refused').length >= 2, 'refused twice before failOpenAfter');
      expect(h.device.conn).not.toBe('online');
      clock.set(t0 + 3601_000);
      await waitFor(() => gw2.reports.some((r) => r.deviceId === 'dev-failopen' && r.report.result === 'fail-open'), 'fail-open report');
      await waitFor(() => h.device.conn === 'online', 'online after fail-open');
      const results = gw2.reports.filter((r) => r.deviceId === 'dev-failopen').map((r) => r.report.result);
      expect(results).toContain('mismatch'); // the refusals before the deadline are reported too
      await gw2.close();
    });
  });
});
