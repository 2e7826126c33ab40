/**
 * The storage contract on a real PostgreSQL 15 (Debian postgresql-15): one throw-away cluster for this file,
 * started by test/support/postgres.ts as the `postgres` user on a loopback port, an empty database per test.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPostgresRegistry } from '../../gateway/registry/postgres/postgres-registry';
import { startPostgres, type PgServer } from '../support/postgres';
import { leaderContract } from './leader-contract';
import { backendLeaseContract } from './backend-lease-contract';
import { lifecycleContract } from './lifecycle-contract';
import { replicaStateContract } from './replica-state-contract';
import { registryContract, type ContractDatabase } from './registry-contract';

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const fresh = async (): Promise<ContractDatabase> => {
  const name = await server.createDatabase();
  const url = server.url(name);
  const query = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await c.query<{ name: string }>(sql);
    } finally {
      await c.end();
    }
  };
  return {
    open: () => openPostgresRegistry({ url, readUrl: null, poolSize: 4 }, { now: () => 1 }),
    exec: async (sql) => {
      await query(sql);
    },
    tables: async () => (await query(`select tablename as name from pg_tables where schemaname = 'public'`)).rows.map((r) => r.name),
    drop: async () => {
      await server.psql('postgres', `drop database ${name} with (force)`);
    },
  };
};

registryContract('PostgreSQL', fresh);
lifecycleContract('PostgreSQL', fresh);
leaderContract('PostgreSQL', fresh);
backendLeaseContract('PostgreSQL', fresh);
replicaStateContract('PostgreSQL', fresh);
