import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tempPathFor, writeFileAtomic } from '../../device-sim/atomic-write';
import { DeviceStorage } from '../../device-sim/device-storage';
import { SimulatedCrash } from '../../device-sim/faults';
import { decideTrust } from '../../device-sim/pin-policy';
import { faultsFor, NO_FAULTS } from '../../device-sim/faults';
import { backupPin, makePinSet, makeSigners, sign } from './support/fixtures';
import { tempDir } from './support/harness';

const signers = makeSigners();
const pinA = backupPin(0xaa);
const factory = sign(makePinSet(1, [pinA, backupPin(1)]), signers.live);
const next = sign(makePinSet(2, [pinA, backupPin(2)]), signers.live);

describe('device storage (SPEC §4 "written atomically")', () => {
  it('first boot runs on the factory state without writing; a saved set loads back intact', async () => {
    const s = new DeviceStorage(tempDir('store'), 'd1', { keyset: signers.keyset, envelope: factory });
    const first = await s.load();
    expect(first).toMatchObject({ firstBoot: true, removedTemp: false });
    expect(first.state.seq).toBe(1);
    expect(existsSync(s.path)).toBe(false);
    const r = await s.load();
    await s.save({ ...r.state, envelope: next, seq: 2, sha256: (await import('../../shared/index')).envelopeSha256(next), verified: true });
    const again = await s.load();
    expect(again.corrupted).toBeUndefined();
    expect(again.state).toMatchObject({ seq: 2, verified: true });
    expect(again.state.pinset?.seq).toBe(2);
  });

  it('a crash after the temp file and before the rename keeps the old file; load removes the temp file', async () => {
    const dir = tempDir('store');
    const path = `${dir}/f.json`;
    await writeFileAtomic(path, Buffer.from('old'));
    await expect(writeFileAtomic(path, Buffer.from('new'), { hooks: { afterTempWritten: () => { throw new SimulatedCrash(); } } }))
      .rejects.toBeInstanceOf(SimulatedCrash);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readFile(tempPathFor(path), 'utf8')).toBe('new');
    const s = new DeviceStorage(dir, 'd2', { keyset: signers.keyset, envelope: factory });
    await s.load();
    await writeFile(tempPathFor(s.path), 'half-writ');
    expect((await s.load()).removedTemp).toBe(true);
    expect(existsSync(tempPathFor(s.path))).toBe(false);
  });

  it.each([
    ['a flipped byte', (t: string) => t.replace('"seq":1', '"seq":7')],
    ['truncation', (t: string) => t.slice(0, t.length / 2)],
    ['a re-computed checksum over a forged envelope', (t: string) => {
      const body = JSON.parse(t).body as { envelope: string };
      const bytes = Buffer.from(body.envelope, 'base64');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      body.envelope = bytes.toString('base64');
      const json = JSON.stringify(body);
      const sum = createHash('sha256').update(json).digest('hex');
      return `{"checksum":"${sum}","body":${json}}\n`;
    }],
  ])('detects corruption by %s and falls back to the factory set', async (_name, damage) => {
    const s = new DeviceStorage(tempDir('store'), 'd3', { keyset: signers.keyset, envelope: factory });
    await s.save((await s.load()).state);
    await writeFile(s.path, damage(await readFile(s.path, 'utf8')));
    const r = await s.load();
    expect(r.corrupted).toBeDefined();
    expect(r.state.seq).toBe(1);
    expect((await s.load()).corrupted).toBeUndefined(); // the factory state was written back
  });
});

describe('pin policy and faults', () => {
  const set = makePinSet(1, [pinA, backupPin(1)], { failOpenAfter: 1000 });
  it('decides like firmware: match → pinned, mismatch → refused + report, after failOpenAfter → CA decides', () => {
    const base = { pinset: set, hostname: 'mqtt.example.com', caValid: true, nowSec: 999 };
    expect(decideTrust({ ...base, served: [pinA] })).toEqual({ allow: true, pinned: true });
    expect(decideTrust({ ...base, served: [backupPin(7)] })).toMatchObject({ allow: false, report: 'mismatch' });
    expect(decideTrust({ ...base, served: [backupPin(7)], nowSec: 1001 })).toEqual({ allow: true, pinned: false, report: 'fail-open' });
    expect(decideTrust({ ...base, served: [backupPin(7)], nowSec: 1001, caValid: false })).toMatchObject({ allow: false, report: 'mismatch' });
    expect(decideTrust({ ...base, hostname: 'other.example.com', served: [backupPin(7)], caValid: false }).allow).toBe(false);
  });

  it('chooses faulty devices deterministically at about the given rate', () => {
    const cfg = { ...NO_FAULTS, reject: 0.1 };
    const ids = Array.from({ length: 2000 }, (_, i) => `d${i}`);
    const hits = ids.filter((id) => faultsFor(id, cfg).rejectCode !== undefined).length;
    expect(hits).toBeGreaterThan(140);
    expect(hits).toBeLessThan(260);
    expect(ids.map((id) => faultsFor(id, cfg).rejectCode)).toEqual(ids.map((id) => faultsFor(id, cfg).rejectCode));
  });
});
