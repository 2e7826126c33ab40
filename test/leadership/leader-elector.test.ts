/**
 * Two electors on one real PostgreSQL (the gateway's LeaderElector with the registry's lock): exactly one leads; when
 * the leader's lock session dies it steps down at once and the other takes over with the next epoch, whose fence
 * then refuses the ex-leader's writes.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../gateway/leadership/leader-elector';
import { LEADER_ROLE } from '../../gateway/registry/leader-lock';
import { openPostgresRegistry } from '../../gateway/registry/postgres/postgres-registry';
import { systemClock } from '../../gateway/clock';
import { startPostgres, type PgServer } from '../support/postgres';
import { waitFor } from '../support/wait-for';

import { silentLogger as quiet } from '../../gateway/logger';

describe('leader election on PostgreSQL', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('one leader; its session killed: it steps down at once, the other leads with the next epoch and the old fence is refused', async () => {
    const url = server.url(await server.createDatabase());
    const ra = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, systemClock);
    const rb = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, systemClock);
    const timing = { pollMs: 100, stallMs: 5000 };
    // a retries rarely, so that b (polling every 100 ms) is the one that takes over
    const a = new LeaderElector(ra.leaderLock(LEADER_ROLE, { holder: 'a:1', stallMs: timing.stallMs }), LEADER_ROLE, { ...timing, pollMs: 60_000 }, systemClock, quiet);
    const b = new LeaderElector(rb.leaderLock(LEADER_ROLE, { holder: 'b:2', stallMs: timing.stallMs }), LEADER_ROLE, timing, systemClock, quiet);
    const seen: string[] = [];
    a.onChange((e) => seen.push(`a:${e}`));
    b.onChange((e) => seen.push(`b:${e}`));
    try {
      await a.start();
      await b.start();
      expect(a.isLeader()).toBe(true);
      expect(b.isLeader()).toBe(false);
      const oldFence = a.fence();
      expect(oldFence).not.toBeNull();
      await b.poll(); // still busy
      expect(b.isLeader()).toBe(false);

      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'pin-update-gateway (leader lock a:1)' and datname = current_database()`);
      await admin.end();
      await waitFor('a to step down', () => !a.isLeader());
      await waitFor('b to lead', () => b.isLeader());
      expect(b.fence()?.epoch).toBe((oldFence?.epoch ?? 0) + 1);
      expect(seen.slice(0, 3)).toEqual(['a:lead', 'a:step-down', 'b:lead']);
      const refused = await ra.transaction(async () => 'written', oldFence ?? undefined).catch((e: { code?: string }) => e.code);
      expect(refused).toBe('E_NOT_LEADER');
      // a tries again on its polls, and stays a follower while b holds the lock
      await a.poll();
      expect(a.isLeader()).toBe(false);
    } finally {
      await a.stop();
      await b.stop();
      await ra.close();
      await rb.close();
    }
  });
});
