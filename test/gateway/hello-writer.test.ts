import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry } from '../../gateway/registry/open-registry';
import type { Registry } from '../../gateway/registry/registry';
import type { HelloState } from '../../gateway/registry/rows';
import { HelloWriter } from '../../gateway/protocol/hello-writer';

/** The group commit of hellos (docs/million.md) on a real SQLite registry. */
describe('HelloWriter', () => {
  const dirs: string[] = [];
  const registries: Registry[] = [];
  afterEach(async () => {
    for (const r of registries.splice(0)) await r.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A registry whose transactions are counted (the real ones, passed through). */
  async function registry(n: number): Promise<{ r: Registry; transactions: () => number }> {
    const dir = mkdtempSync(join(tmpdir(), 'pingw-hello-writer-'));
    dirs.push(dir);
    const r = await openRegistry({ file: join(dir, 'r.sqlite'), url: null, readUrl: null, poolSize: 1 }, { now: () => Date.now() });
    registries.push(r);
    await r.devices.insertMany(Array.from({ length: n }, (_, i) => ({ id: `d${i}`, fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 })));
    let count = 0;
    const transaction = r.transaction.bind(r);
    return { r: { ...r, transaction: (fn, fence) => ((count += 1), transaction(fn, fence)) }, transactions: () => count };
  }
  const hello = (at: number): HelloState => ({ firmware: 'fw-2', installedSeq: 0, installedSha256: null, keysetVersion: 1, at });

  it('commits many devices\' hellos in few transactions; each resolves only once its row and counters are committed', async () => {
    const { r, transactions } = await registry(300);
    const w = new HelloWriter(r, { flushMs: 5, maxRows: 100 });
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const id = `d${i}`;
        await w.hello(id, hello(2000 + i));
        const row = await r.devices.get(id); // committed before the caller goes on
        expect([row?.firmware, row?.keysetVersion, row?.lastSeen, row?.countedInstalled], id).toEqual(['fw-2', 1, 2000 + i, 'none']);
        seen.push(id);
      }),
    );
    expect(seen).toHaveLength(300);
    // 300 hellos of at most 100 per batch: one transaction per device would be 300
    expect(transactions()).toBeGreaterThanOrEqual(3);
    expect(transactions()).toBeLessThanOrEqual(10);
    // the coverage counters were reconciled in the same unit of work: every device counted once, as 'none'
    expect(await r.coverage.installedSets('f')).toEqual([{ key: 'none', count: 300 }]);
    await w.close();
  });

  it('a batch that fails rejects every write in it and commits none of them', async () => {
    const { r } = await registry(3);
    const w = new HelloWriter(r, { flushMs: 50, maxRows: 100 });
    // installed_seq is NOT NULL: the database refuses this row, and with it the whole transaction
    const bad = { ...hello(5), installedSeq: null as unknown as number };
    const results = await Promise.allSettled([w.hello('d0', hello(1)), w.hello('d1', hello(2)), w.hello('d2', bad)]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((await r.devices.get('d0'))?.firmware).toBeNull();
    expect(await r.coverage.installedSets('f')).toEqual([{ key: 'unknown', count: 3 }]);
    // the next batch is written as usual
    await w.hello('d1', hello(3));
    expect((await r.devices.get('d1'))?.firmware).toBe('fw-2');
    await w.close();
  });

  it('close() writes what is buffered, then refuses further writes', async () => {
    const { r } = await registry(2);
    const w = new HelloWriter(r, { flushMs: 60_000, maxRows: 100 });
    const pending = w.hello('d0', hello(7));
    await w.close();
    await pending;
    expect((await r.devices.get('d0'))?.firmware).toBe('fw-2');
    await expect(w.hello('d1', hello(8))).rejects.toThrow('closed');
  });
});
