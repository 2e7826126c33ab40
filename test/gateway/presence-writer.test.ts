/**
 * Presence writes batched per event-loop turn (issue 17), on a real SQLite registry: writes issued in one turn
 * commit in one transaction, in arrival order (a device that came and went ends offline), and each caller's
 * promise settles only once its row is committed.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PresenceWriter } from '../../gateway/protocol/presence-writer';
import { openRegistry } from '../../gateway/registry/open-registry';
import type { Registry } from '../../gateway/registry/registry';
import { removeDir, tempDir } from './helpers/test-gateway';

const dir = tempDir();
let registry: Registry;
afterAll(async () => {
  await registry?.close();
  removeDir(dir);
});

describe('presence writer', () => {
  it('writes one turn of presence changes in one transaction, in order, settling after the commit', async () => {
    registry = await openRegistry({ file: join(dir, 'registry.sqlite'), url: null, readUrl: null, poolSize: 1 }, { now: () => Date.now() });
    const ids = Array.from({ length: 100 }, (_, i) => `p-${i}`);
    await registry.devices.insertMany(ids.map((id) => ({ id, fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 1 })));
    const writer = new PresenceWriter(registry);
    const settled: string[] = [];
    const writes = ids.map((id, i) =>
      writer.write(id, true, 1000 + i).then(async () => {
        // committed when it settles: the row says so already (p-7 also went offline in the same batch)
        expect((await registry.devices.get(id))?.online).toBe(id !== 'p-7');
        settled.push(id);
      }),
    );
    writes.push(writer.write('p-7', false, 2000)); // came and went in the same turn: ends offline
    await Promise.all(writes);
    expect(writer.stats).toEqual({ batches: 1, rows: 101 });
    expect(settled).toEqual(ids);
    expect((await registry.devices.onlineIds()).length).toBe(99);
    expect(await registry.devices.get('p-7')).toMatchObject({ online: false, lastSeen: 2000 });
    // a later turn is a batch of its own
    await writer.write('p-7', true, 3000);
    expect(writer.stats).toEqual({ batches: 2, rows: 102 });
  });
});
