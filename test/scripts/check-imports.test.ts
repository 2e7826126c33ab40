/**
 * scripts/check-imports.mjs fed fixture trees: the storage rule (issue 12: no driver, drizzle or SQL outside
 * gateway/registry/{sqlite,postgres}/ and the listed folders) fails on an offender and passes a clean tree, and the
 * older rules still fail. Runs the script as `npm test` does, as a process, on a temporary tree.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/check-imports.mjs');
const run = promisify(execFile);

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A tree of files (path → content) in a temporary directory. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pingw-check-imports-'));
  dirs.push(root);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  return root;
}

async function check(root: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, root]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** What a healthy tree looks like: drivers and SQL only where the rule allows them. */
const CLEAN = {
  'gateway/registry/registry.ts': `export interface Registry { devices: { get(id: string): Promise<unknown> } }\n`,
  'gateway/registry/sqlite/store.ts': `import Database from 'better-sqlite3';\nimport { sql } from 'drizzle-orm';\nexport const q = (db: Database.Database) => db.prepare('select id, fleet from devices where id = ?');\nexport { sql };\n`,
  'gateway/registry/postgres/store.ts': `import pg from 'pg';\nexport const q = \`insert into acks (device_id) select * from unnest($1::text[]) on conflict do nothing\`;\nexport { pg };\n`,
  'gateway/api/devices.ts': `import type { Registry } from '../registry/registry';\n// reads go through the contract, never "select * from devices"\nexport const get = (r: Registry, id: string) => r.devices.get(id);\n`,
  'dashboard/pages/fleet.tsx': `export const hint = 'Select a fleet from the list, then update the rollout set';\nexport const help = "Delete from the dashboard only what you created";\n`,
  'bench/bare.ts': `import pg from 'pg';\nexport const q = 'update devices set last_seen = $1 where id = any($2)';\nexport { pg };\n`,
  'test/registry/audit.test.ts': `import Database from 'better-sqlite3';\nexport const q = 'delete from audit_log';\nexport { Database };\n`,
  'test/support/pg.ts': `export const vacuum = 'VACUUM ANALYZE';\n`,
};

describe('check-imports: storage stays in the storage implementations', () => {
  it('passes a tree whose drivers and SQL are only where allowed (prose that reads like SQL is not SQL)', async () => {
    const r = await check(tree(CLEAN));
    expect(r.out).toContain('no storage outside the registry implementations');
    expect(r.code).toBe(0);
  });

  it('fails on a driver or drizzle imported outside (static, type-only, dynamic), naming file and module', async () => {
    const r = await check(
      tree({
        ...CLEAN,
        'gateway/rollout-driver/journal.ts': `import { eq } from 'drizzle-orm';\nexport { eq };\n`,
        'gateway/start.ts': `export const open = () => import('pg');\n`,
        'gateway/api/types.ts': `import type Database from 'better-sqlite3';\nexport type D = Database.Database;\n`,
        'test/transport/kill.test.ts': `import Database from 'better-sqlite3';\nexport { Database };\n`,
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('storage: gateway/rollout-driver/journal.ts imports drizzle-orm');
    expect(r.out).toContain('storage: gateway/start.ts imports pg');
    expect(r.out).toContain('storage: gateway/api/types.ts imports better-sqlite3');
    expect(r.out).toContain('storage: test/transport/kill.test.ts imports better-sqlite3');
    expect(r.out).toContain('import check: 4 problem(s)');
  });

  it('fails on SQL in a string or template outside, even without a driver import (a query handed to the contract)', async () => {
    const r = await check(
      tree({
        ...CLEAN,
        'gateway/rollouts/fleet-directory.ts': 'export const q = (id: string) => `select id, fleet, online\n  from devices where id = ${id}`;\n',
        'gateway/api/ops.ts': `export const q = "INSERT INTO audit_log (action) VALUES ('x')";\n`,
        'device-sim/store.ts': `export const q = 'update devices set online = 0';\n`,
        'gateway/coverage/x.ts': `export const ddl = 'create index devices_fleet_idx on devices (fleet)';\n`,
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('storage: gateway/rollouts/fleet-directory.ts has SQL in a string');
    expect(r.out).toContain('storage: gateway/api/ops.ts has SQL in a string');
    expect(r.out).toContain('storage: device-sim/store.ts has SQL in a string');
    expect(r.out).toContain('storage: gateway/coverage/x.ts has SQL in a string');
    expect(r.out).toContain('import check: 4 problem(s)');
  });

  it('still fails on the older rules (a layer broken, a cycle between folders)', async () => {
    const r = await check(
      tree({
        ...CLEAN,
        'shared/a.ts': `import { get } from '../gateway/api/devices';\nexport { get };\n`,
        'gateway/x/a.ts': `import { b } from '../y/b';\nexport const a = () => b;\n`,
        'gateway/y/b.ts': `import { a } from '../x/a';\nexport const b = () => a;\n`,
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('layer: shared/a.ts (shared/) imports gateway/api/devices.ts');
    expect(r.out).toContain('cycle');
  });
});
