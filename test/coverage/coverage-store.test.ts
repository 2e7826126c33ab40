/** Coverage counters kept in the transaction that changes a device (registry/coverage-store.ts), on a real SQLite file. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRegistryDb } from '../../gateway/db/open';
import { CoverageStore } from '../../gateway/registry/coverage-store';
import { DeviceStore } from '../../gateway/registry/device-store';
import { IngestWriter } from '../../gateway/registry/ingest-writer';
import { PinSetStore } from '../../gateway/registry/pinset-store';
import { PinSetViews } from '../../gateway/registry/pinset-views';
import { TelemetryStore } from '../../gateway/registry/telemetry-store';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { PIN_A, PIN_B, PIN_C } from '../rollout-driver/helpers/sim-device';

const dir = tempDir();
afterAll(() => removeDir(dir));

describe('CoverageStore', () => {
  const db = openRegistryDb(join(dir, 'registry.sqlite'));
  const devices = new DeviceStore(db);
  const pinsets = new PinSetStore(db);
  const coverage = new CoverageStore(db, new PinSetViews(pinsets));
  const telemetry = new TelemetryStore(db);
  const ingest = new IngestWriter(db, { now: () => 120_000 }, { flushMs: 60_000, maxRows: 100_000 }, { coverage, telemetry });
  const set = (seq: number, pins: string[]) =>
    pinsets.insert({
      fleet: 'f', seq, envelope: Buffer.alloc(8, seq), sha256: String(seq).padStart(64, '0'), keysetVersion: 1, notAfter: 4e9, source: 'gateway', createdAt: 0, createdBy: 't',
      json: { format: 1, seq, issuedAt: 1, notAfter: 4e9, keysetVersion: 1, target: { fleet: 'f' }, hosts: [{ name: 'h.example', includeSubdomains: false, pins, enforce: true }] },
    });
  const s1 = set(1, [PIN_A, PIN_B]);
  const s2 = set(2, [PIN_B, PIN_C]);
  const enrolDevice = (id: string) =>
    coverage.withReconcile(id, () => devices.insert({ id, fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 }));
  const counts = () => Object.fromEntries(coverage.pinCounts('f').map((r) => [r.pin, r.count]));
  const installed = () => Object.fromEntries(coverage.installedSets('f').map((r) => [r.key, r.count]));
  const ack = async (id: string, s: typeof s1, status: 'applied' | 'verified') => {
    const p = ingest.addAck({ deviceId: id, seq: s.seq, sha256: s.sha256, status, code: null, pinsetId: s.id });
    ingest.flush();
    return p;
  };

  it('enrolment counts a device as unknown; hello as none; verified acks move the pin counters', async () => {
    enrolDevice('d1');
    enrolDevice('d2');
    expect(installed()).toEqual({ unknown: 2 });
    expect(coverage.fleetSize('f')).toBe(2);
    coverage.withReconcile('d1', () => devices.applyHello('d1', { firmware: '1', installedSeq: 0, installedSha256: null, keysetVersion: 1, at: 1 }));
    expect(installed()).toEqual({ unknown: 1, none: 1 });
    await ack('d1', s1, 'applied');
    expect(counts()).toEqual({}); // applied, not verified: covered by nothing
    await ack('d1', s1, 'verified');
    expect(counts()).toEqual({ [PIN_A]: 1, [PIN_B]: 1 });
    await ack('d1', s1, 'verified'); // a duplicate changes nothing
    expect(counts()).toEqual({ [PIN_A]: 1, [PIN_B]: 1 });
  });

  it('a newer applied set uncovers the old one until it is verified; rows at 0 stay', async () => {
    await ack('d1', s2, 'applied');
    expect(counts()).toEqual({ [PIN_A]: 0, [PIN_B]: 0 });
    expect(installed()).toEqual({ unknown: 1, [s2.sha256]: 1 });
    await ack('d1', s2, 'verified');
    expect(counts()).toEqual({ [PIN_A]: 0, [PIN_B]: 1, [PIN_C]: 1 });
    expect(coverage.verifiedSets('f')).toEqual([{ key: s2.sha256, count: 1 }]);
  });

  it('decommissioning removes the device from every counter; counters equal a recount', async () => {
    await ack('d2', s1, 'verified');
    coverage.withReconcile('d1', () => devices.setDecommissioned('d1'));
    expect(counts()).toEqual({ [PIN_A]: 1, [PIN_B]: 1, [PIN_C]: 0 });
    expect(coverage.fleetSize('f')).toBe(1);
    // wipe the counters and rebuild them from the rows: the same numbers
    db.$client.exec(`delete from coverage_counts; delete from fleet_set_counts; update devices set counted_installed = null, counted_verified = null`);
    expect(coverage.reconcilePending()).toBe(1);
    expect(counts()).toEqual({ [PIN_A]: 1, [PIN_B]: 1 });
    expect(coverage.fleetSize('f')).toBe(1);
  });

  it('telemetry buckets count each new report once, per fleet, host and minute', async () => {
    const report = (time: number, result: string) => {
      const p = ingest.addReport({ deviceId: 'd2', host: 'h.example', port: 443, result, servedPins: [PIN_A], installedSeq: 1, deviceTime: time });
      ingest.flush();
      return p;
    };
    expect(await report(1, 'ok')).toBe(true);
    expect(await report(1, 'ok')).toBe(false); // redelivery
    await report(2, 'mismatch');
    await report(3, 'fail-open');
    expect(telemetry.series({ fleet: 'f', bucketMs: 60_000, sinceMs: 0 })).toEqual([{ t: 120_000, ok: 1, mismatch: 1, failOpen: 1 }]);
    expect(telemetry.series({ fleet: 'f', host: 'other', bucketMs: 60_000, sinceMs: 0 })).toEqual([]);
    expect(telemetry.lastReports({ fleet: 'f', limit: 2 }).map((r) => r.result)).toEqual(['fail-open', 'mismatch']);
  });
});
