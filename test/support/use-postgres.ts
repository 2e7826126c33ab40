/**
 * Imported first by a `*.postgres.test.ts` file: every test gateway of that file keeps its registry in a real
 * PostgreSQL 15 (one throw-away cluster per file, a database per data dir), so a whole existing suite runs a
 * second time on PostgreSQL. Usage:
 *
 *   import '../support/use-postgres';
 *   import './api.test';
 */
import { afterAll, beforeAll } from 'vitest';
import { useDatabaseFor } from '../gateway/helpers/test-gateway';
import { startPostgres, type PgServer } from './postgres';

let server: PgServer | null = null;
const databases = new Map<string, string>();

beforeAll(async () => {
  server = await startPostgres();
  useDatabaseFor(async (dataDir) => {
    if (server === null) throw new Error('PostgreSQL is not running');
    let name = databases.get(dataDir);
    if (name === undefined) {
      name = await server.createDatabase();
      databases.set(dataDir, name);
    }
    return { url: server.url(name) };
  });
}, 120_000);

afterAll(async () => {
  useDatabaseFor(null);
  await server?.stop();
  server = null;
  // the second run must really have been on PostgreSQL (a suite that starts no test gateway proves nothing here)
  if (databases.size === 0) throw new Error('no test gateway of this file used PostgreSQL');
});
