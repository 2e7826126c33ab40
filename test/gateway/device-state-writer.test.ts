import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry } from '../../gateway/registry/open-registry';
import type { Registry } from '../../gateway/registry/registry';
import type { HelloState } from '../../gateway/registry/rows';
import { DeviceStateWriter } from '../../gateway/protocol/device-state-writer';

/** The group commit of presence and hellos (docs/million.md) on a real SQLite registry. */
describe('DeviceStateWriter', () => {
  const dirs: string[] = [];
  const registries: Registry[] = [];
  afterEach(async () => {
    for (const r of registries.splice(0)) await r.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A registry whose transactions are counted (the real ones, passed through). */
  async function registry(n: number): Promise<{ r: Registry; transactions: () => number }> {
    const dir = mkdtempSync(join(tmpdir(), 'pingw-state-writer-'));
    dirs.push(dir);
    const r = await openRegistry({ file: join(dir, 'r.sqlite'), url: null, readUrl: null, poolSize: 1 }, { now: () => Date.now() });
    registries.push(r);
    await r.devices.insertMany(Array.from({ length: n }, (_, i) => ({ id: `d${i}`, fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 })));
    let count = 0;
    const transaction = r.transaction.bind(r);
    return { r: { ...r, transaction: (fn, fence) => ((count += 1), transaction(fn, fence)) }, transactions: () => count };
  }
  const hello = (at: number): HelloState => ({ firmware: 'fw-2', installedSeq: 0, installedSha256: null, keysetVersion: 1, at });

  it('commits many devices\' presence and hello in few transactions; each resolves only once its row is committed', async () => {
    const { r, transactions } = await registry(300);
    const w = new DeviceStateWriter(r, { flushMs: 5, maxRows: 100 });
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const id = `d${i}`;
        await w.presence(id, true, 1000 + i);
        expect((await r.devices.get(id))?.online, id).toBe(true); // committed before the caller goes on
        await w.hello(id, hello(2000 + i));
        const row = await r.devices.get(id);
        expect([row?.firmware, row?.keysetVersion, row?.lastSeen], id).toEqual(['fw-2', 1, 2000 + i]);
        seen.push(id);
      }),
    );
    expect(seen).toHaveLength(300);
    // 600 writes of at most 100 each: one transaction per device would be 600 (300 hellos alone)
    expect(transactions()).toBeGreaterThanOrEqual(6);
    expect(transactions()).toBeLessThanOrEqual(20);
    // the hello's coverage counters were reconciled in the same unit of work: every device counted once, as 'none'
    expect(await r.coverage.installedSets('f')).toEqual([{ key: 'none', count: 300 }]);
    await w.close();
  });

  it('a batch that fails rejects every write in it and commits none of them', async () => {
    const { r } = await registry(3);
    const w = new DeviceStateWriter(r, { flushMs: 50, maxRows: 100 });
    // installed_seq is NOT NULL: the database refuses this row, and with it the whole transaction
    const bad = { ...hello(5), installedSeq: null as unknown as number };
    const results = await Promise.allSettled([w.presence('d0', true, 1), w.hello('d1', hello(2)), w.hello('d2', bad)]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((await r.devices.get('d0'))?.online).toBe(false);
    expect((await r.devices.get('d1'))?.firmware).toBeNull();
    // the next batch is written as usual
    await w.hello('d1', hello(3));
    expect((await r.devices.get('d1'))?.firmware).toBe('fw-2');
    await w.close();
  });

  it('close() writes what is buffered, then refuses further writes', async () => {
    const { r } = await registry(2);
    const w = new DeviceStateWriter(r, { flushMs: 60_000, maxRows: 100 });
    const pending = w.presence('d0', true, 7);
    await w.close();
    await pending;
    expect((await r.devices.get('d0'))?.online).toBe(true);
    await expect(w.presence('d1', true, 8)).rejects.toThrow('closed');
  });
});
