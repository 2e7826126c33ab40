/** The storage contract on the embedded default: a real SQLite file per test (better-sqlite3, WAL). */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteRegistry } from '../../gateway/registry/sqlite/sqlite-registry';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { leaderContract } from './leader-contract';
import { backendLeaseContract } from './backend-lease-contract';
import { lifecycleContract } from './lifecycle-contract';
import { replicaStateContract } from './replica-state-contract';
import { registryContract, type ContractDatabase } from './registry-contract';

const fresh = async (): Promise<ContractDatabase> => {
  const dir = tempDir('pingw-contract-');
  const file = join(dir, 'registry.sqlite');
  const raw = () => new Database(file);
  return {
    open: async () => openSqliteRegistry(file, { now: () => 1 }),
    exec: async (sql) => {
      const c = raw();
      try {
        c.exec(sql);
      } finally {
        c.close();
      }
    },
    tables: async () => {
      const c = raw();
      try {
        return c.prepare<[], { name: string }>(`select name from sqlite_master where type = 'table'`).all().map((t) => t.name);
      } finally {
        c.close();
      }
    },
    drop: async () => removeDir(dir),
  };
};

registryContract('SQLite', fresh);
lifecycleContract('SQLite', fresh);
leaderContract('SQLite', fresh);
backendLeaseContract('SQLite', fresh);
replicaStateContract('SQLite', fresh);
