// "No module outside the storage implementations imports drizzle, SQL or a driver" (issue 12), checked by
// scripts/check-imports.mjs in `npm test`. The rest of the gateway speaks the contract of gateway/registry/.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Where a driver, drizzle or SQL is allowed, and why:
 * - gateway/registry/sqlite/, gateway/registry/postgres/: the two storage implementations;
 * - bench/: the storage bench's bare-driver baseline (bench/storage-bare.ts) and benches that look at a gateway's
 *   SQLite file from outside;
 * - test/registry/: the storage contract suite, which also looks under the contract (triggers refusing UPDATE on
 *   the audit log, counters recounted from the rows, migrations from an empty database);
 * - test/support/: the PostgreSQL test harness (psql, VACUUM);
 * - test/replicas/: the replica kill tests read the database the replicas share as an oracle independent of the
 *   code under test (the leader's epoch row, every PUBACKed ack present exactly once, counted by SQL);
 * - test/leadership/: the election tests kill the lock's database session from outside (pg_terminate_backend);
 * - test/events/replica-fanout.test.ts: listens on the NOTIFY channel from outside to measure payload sizes
 *   against PostgreSQL's 8000-byte limit;
 * - scripts/ and test/scripts/: tooling, and this check's own test (its fixture trees hold offenders on purpose).
 */
export const STORAGE_ALLOWED = ['gateway/registry/sqlite/', 'gateway/registry/postgres/', 'bench/', 'test/registry/', 'test/support/', 'test/replicas/', 'test/leadership/', 'test/events/replica-fanout.test.ts', 'scripts/', 'test/scripts/'];

/** Every folder of source the rule looks at (the whole tree but dependencies, data and the migrations' SQL). */
const SOURCE_ROOTS = ['shared', 'api-contract', 'gateway', 'dashboard', 'device-sim', 'bench', 'test', 'scripts', 'bin'];
const SKIP = new Set(['node_modules', 'data', 'results', 'fixtures-out']);

/** Database drivers and the ORM: better-sqlite3, pg (and its helpers), postgres.js, sqlite3, node:sqlite, drizzle-orm. */
const DRIVER = /^(better-sqlite3|pg|pg-[\w-]+|postgres|sqlite3|node:sqlite|drizzle-orm)(\/.*)?$/;
const IMPORTS = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * SQL in a string: a statement's opening words in the shape SQL gives them (`select a, b from t`, `insert into t`,
 * `update t set c =`, `delete from t where`, DDL, pragmas, explicit transactions). Prose such as "select a fleet from the
 * list" does not match (a select list is comma-separated expressions, and prose has none).
 */
const SQL = new RegExp(
  [
    String.raw`\bselect\s+(?:distinct\s+)?(?:[\w.*"\x60()]+(?:\s+as\s+\w+)?\s*,\s*)*[\w.*"\x60()]+(?:\s+as\s+\w+)?\s+from\s+["\x60]?\w`,
    String.raw`\binsert\s+(?:or\s+\w+\s+)?into\s+["\x60]?\w+["\x60]?\s*(?:\(|select\b|values\b|default\b)`,
    String.raw`\bupdate\s+["\x60]?\w+["\x60]?(?:\s+\w+)?\s+set\s+["\x60]?\w+["\x60]?\s*=`,
    String.raw`\bdelete\s+from\s+["\x60]?\w+["\x60]?\s*(?:where\b|returning\b|;|$)`,
    String.raw`\b(?:create|drop)\s+(?:unique\s+)?(?:table|index|trigger|view)\b`,
    String.raw`\balter\s+table\b`,
    String.raw`^\s*pragma\s+\w+`,
    String.raw`^\s*(?:begin\s+(?:immediate|exclusive|transaction)|vacuum\b|truncate\s+\w)`,
  ].join('|'),
  'i',
);

/** String and template literals of a source file, comments skipped (a template's ${…} parts become a space). */
export function stringLiterals(src) {
  const out = [];
  let i = 0;
  const n = src.length;
  const readQuoted = (q) => {
    let s = '';
    i++;
    while (i < n && src[i] !== q) {
      if (src[i] === '\\') i++;
      else if (src[i] === '\n' && q !== '`') break;
      s += src[i] ?? '';
      i++;
    }
    i++;
    return s;
  };
  const readTemplate = () => {
    let s = '';
    i++;
    while (i < n && src[i] !== '`') {
      if (src[i] === '\\') {
        i += 2;
        continue;
      }
      if (src[i] === '$' && src[i + 1] === '{') {
        // skip the expression (nested braces and strings), keep a placeholder
        let depth = 0;
        i++;
        do {
          const c = src[i];
          if (c === '{') depth++;
          else if (c === '}') depth--;
          else if (c === "'" || c === '"') {
            out.push(readQuoted(c));
            continue;
          } else if (c === '`') {
            out.push(readTemplate());
            continue;
          }
          i++;
        } while (i < n && depth > 0);
        s += ' ? ';
        continue;
      }
      s += src[i];
      i++;
    }
    i++;
    return s;
  };
  while (i < n) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') out.push(readQuoted(c));
    else if (c === '`') out.push(readTemplate());
    else i++;
  }
  return out;
}

function walk(root, dir, files) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(root, p, files);
    else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) files.push(relative(root, p).split('\\').join('/'));
  }
}

/** Problems of the storage rule in the tree at `root` (empty when it holds). */
export function storageBoundaryProblems(root) {
  const files = [];
  for (const r of SOURCE_ROOTS) if (existsSync(join(root, r))) walk(root, join(root, r), files);
  const problems = [];
  for (const f of files) {
    if (STORAGE_ALLOWED.some((a) => f.startsWith(a))) continue;
    const src = readFileSync(join(root, f), 'utf8');
    for (const m of src.matchAll(IMPORTS)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec !== undefined && DRIVER.test(spec))
        problems.push(`storage: ${f} imports ${spec}; only ${STORAGE_ALLOWED.join(', ')} may (use the contract of gateway/registry/)`);
    }
    for (const lit of stringLiterals(src)) {
      const hit = SQL.exec(lit);
      if (hit !== null)
        problems.push(`storage: ${f} has SQL in a string ("${hit[0].replace(/\s+/g, ' ').slice(0, 60)}"); only ${STORAGE_ALLOWED.join(', ')} may`);
    }
  }
  return problems;
}
