/**
 * How each dialect holds the leader lock (docs/scale.md "Replicas"): PostgreSQL frees it when the session holding it
 * dies or stays quiet past stallMs (a frozen leader), and tells the holder at once; SQLite refuses a second live
 * process on the same file at its first acquisition, and takes over from a dead one.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADER_ROLE } from '../../gateway/registry/leader-lock';
import { openPostgresRegistry } from '../../gateway/registry/postgres/postgres-registry';
import { openSqliteRegistry } from '../../gateway/registry/sqlite/sqlite-registry';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { startPostgres, type PgServer } from '../support/postgres';
import { waitFor } from '../support/wait-for';

const clock = { now: () => 1 };

describe('leader lock on SQLite: one process per file', () => {
  it('refuses a second live process on the same file, naming it; takes over from a dead one', async () => {
    const dir = tempDir('pingw-leader-');
    const file = join(dir, 'registry.sqlite');
    try {
      const r = openSqliteRegistry(file, clock);
      // another live process (our parent) holds the file
      const other = `${hostname()}:${process.ppid}`;
      expect((await r.leaderLock(LEADER_ROLE, { holder: other, stallMs: 1000 }).tryAcquire(1))?.epoch).toBe(1);
      const mine = r.leaderLock(LEADER_ROLE, { holder: `${hostname()}:${process.pid}`, stallMs: 1000 });
      await expect(mine.tryAcquire(2)).rejects.toThrow(new RegExp(`another gateway process \\(${other}\\) already uses the SQLite registry`));
      // a holder that died: a process that exited
      const child = spawn(process.execPath, ['-e', '0']);
      const deadPid = await new Promise<number>((ok) => child.once('exit', () => ok(child.pid as number)));
      const dead = `${hostname()}:${deadPid}`;
      const lockDead = r.leaderLock(LEADER_ROLE, { holder: dead, stallMs: 1000 });
      // the parent still holds it: the dead holder cannot take it either
      await expect(lockDead.tryAcquire(3)).rejects.toThrow(/already uses/);
      await r.close();
      // write the dead holder in by hand, as a crashed gateway leaves it
      const Database = (await import('better-sqlite3')).default;
      const c = new Database(file);
      c.prepare('update leader_epochs set holder = ? where role = ?').run(dead, LEADER_ROLE);
      c.close();
      const again = openSqliteRegistry(file, clock);
      expect((await again.leaderLock(LEADER_ROLE, { holder: `${hostname()}:${process.pid}`, stallMs: 1000 }).tryAcquire(4))?.epoch).toBe(2);
      await again.close();
    } finally {
      removeDir(dir);
    }
  });
});

describe('leader lock on PostgreSQL: an advisory lock on a session of its own', () => {
  let server: PgServer;
  let url: string;
  beforeAll(async () => {
    server = await startPostgres();
    url = server.url(await server.createDatabase());
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('one holder at a time; when its session is ended the holder is told at once and another acquires the next epoch', async () => {
    const a = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, clock);
    const b = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, clock);
    try {
      const lockA = a.leaderLock(LEADER_ROLE, { holder: 'a:1', stallMs: 60_000 });
      const lockB = b.leaderLock(LEADER_ROLE, { holder: 'b:2', stallMs: 60_000 });
      const lost: string[] = [];
      lockA.onLost((reason) => lost.push(reason));
      const epoch = (await lockA.tryAcquire(1))?.epoch;
      expect(epoch).toBeGreaterThan(0);
      expect(await lockB.tryAcquire(2)).toBeNull();
      expect(await lockA.stillHeld()).toBe(true);
      // the server ends A's lock session (as when its process dies or its link breaks)
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'pin-update-gateway (leader lock a:1)'`);
      await admin.end();
      await waitFor('A told it lost the lock', () => lost.length === 1);
      expect(await lockA.stillHeld()).toBe(false);
      expect((await lockB.tryAcquire(3))?.epoch).toBe((epoch as number) + 1);
      await lockA.release();
      await lockB.release();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a holder that stops sending queries (frozen) loses the lock after stallMs: the server closes its session', async () => {
    const a = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, clock);
    const b = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, clock);
    try {
      const lockA = a.leaderLock(LEADER_ROLE, { holder: 'a:1', stallMs: 300 });
      const lockB = b.leaderLock(LEADER_ROLE, { holder: 'b:2', stallMs: 60_000 });
      const lost: string[] = [];
      lockA.onLost((reason) => lost.push(reason));
      const epoch = (await lockA.tryAcquire(1))?.epoch as number;
      // A never polls again: idle_session_timeout ends its session
      const next = await waitFor('B to acquire after A went quiet', () => lockB.tryAcquire(2), 15_000, 100);
      expect(next.epoch).toBe(epoch + 1);
      await waitFor('A told it lost the lock', () => lost.length === 1);
      await lockA.release();
      await lockB.release();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
