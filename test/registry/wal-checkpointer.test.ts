import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryDb } from '../../gateway/registry/sqlite/open';
import { INLINE_CHECKPOINT_PAGES, WalCheckpointer } from '../../gateway/registry/sqlite/wal-checkpointer';

/**
 * WAL checkpoints in a thread of their own (docs/million.md): the gateway's connection stops checkpointing inline,
 * and the WAL still does not grow with what is written — the thread's PASSIVE checkpoints let SQLite restart it.
 */
describe('WalCheckpointer', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  function open() {
    const dir = mkdtempSync(join(tmpdir(), 'pingw-wal-'));
    dirs.push(dir);
    const file = join(dir, 'r.sqlite');
    const client = openRegistryDb(file).$client;
    client.exec('create table blobs (id integer primary key, b blob)');
    return { file, client };
  }
  const autocheckpoint = (c: ReturnType<typeof open>['client']) => c.pragma('wal_autocheckpoint', { simple: true }) as number;

  it('takes the checkpoints off the connection, and the WAL stays small while 40 MiB are written', async () => {
    const { file, client } = open();
    const cp = new WalCheckpointer(client, file, { everyMs: 5, startAfterMs: 0 });
    expect(autocheckpoint(client)).toBe(INLINE_CHECKPOINT_PAGES);
    await vi.waitFor(() => expect(autocheckpoint(client)).toBeGreaterThan(INLINE_CHECKPOINT_PAGES), { timeout: 10_000 });
    const insert = client.prepare('insert or replace into blobs (id, b) values (?, ?)');
    const batch = client.transaction((k: number) => {
      for (let i = 0; i < 256; i++) insert.run((k % 4) * 256 + i, Buffer.alloc(4096, k));
    });
    for (let k = 0; k < 40; k++) {
      batch(k); // 1 MiB of rows per transaction; the WAL restarts once a checkpoint has caught up
      await new Promise((ok) => setTimeout(ok, 20));
    }
    // with no checkpoint at all the WAL would hold all 40 MiB (below the inline limits of 64 MiB and 1 GiB)
    expect(statSync(`${file}-wal`).size).toBeLessThan(12 * 2 ** 20);
    await cp.stop();
    client.close();
  });

  it('without the thread the connection checkpoints inline (a registry that lives a moment never starts it)', async () => {
    const { file, client } = open();
    const cp = new WalCheckpointer(client, file, { everyMs: 5, startAfterMs: 60_000 });
    expect(autocheckpoint(client)).toBe(INLINE_CHECKPOINT_PAGES);
    await cp.stop(); // before the thread started: nothing to stop, nothing left running
    expect(autocheckpoint(client)).toBe(INLINE_CHECKPOINT_PAGES);
    client.close();
  });
});
