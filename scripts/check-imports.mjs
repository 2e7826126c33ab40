#!/usr/bin/env node
// Import-graph check run by `npm test` (issue: "no cycles between folders").
// Fails on: (1) a cycle between files, (2) a cycle between folders (a folder = a directory of source files),
// (3) a layering rule broken: shared/ imports nothing internal, device-sim/ never imports gateway/, the dashboard
// reaches the gateway only through its API contract (dashboard/ imports no gateway/ module; the typed contract of the
// JSON API is the top-level api-contract/, which imports nothing internal but shared/), (4) storage outside the
// storage implementations (issue 12, storage-boundary.mjs): a database driver or drizzle imported, or SQL in a
// string, anywhere but gateway/registry/{sqlite,postgres}/ and the folders listed there.
// `node scripts/check-imports.mjs [ROOT]` checks another tree (the script's own test feeds it fixtures).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';
import { storageBoundaryProblems } from './storage-boundary.mjs';

const root = process.argv[2] !== undefined ? resolve(process.argv[2]) : resolve(dirname(new URL(import.meta.url).pathname), '..');
const ROOTS = ['shared', 'api-contract', 'gateway', 'dashboard', 'device-sim', 'bench'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules' && name !== 'migrations') walk(p); }
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) files.push(relative(root, p));
  }
}
for (const r of ROOTS) if (existsSync(join(root, r))) walk(join(root, r));

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
function resolveSpec(from, spec) {
  const base = resolve(root, dirname(from), spec);
  const cands = [base, base + '.ts', base + '.tsx', join(base, 'index.ts'), base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx')];
  for (const c of cands) if (existsSync(c) && statSync(c).isFile()) return relative(root, c);
  return null;
}
const edges = new Map();
const problems = [];
for (const f of files) {
  const src = readFileSync(join(root, f), 'utf8');
  const deps = new Set();
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const to = resolveSpec(f, spec);
    if (to === null) { problems.push(`${f}: cannot resolve ${spec}`); continue; }
    deps.add(to);
  }
  edges.set(f, deps);
}
const top = (f) => f.split('/')[0];
// The unit of architecture is a folder one level below the top (gateway/api, dashboard/pages), sub-folders
// included (gateway/api/routes belongs to gateway/api). A file directly in a top folder (gateway/start.ts,
// shared/bytes.ts) is a unit of its own: the composition root and the small leaf helpers every folder may use.
const folder = (f) => {
  const parts = dirname(f).split('/');
  return parts.length === 1 ? f : parts.slice(0, 2).join('/');
};
for (const [f, deps] of edges) for (const d of deps) {
  if (top(f) === 'shared' && top(d) !== 'shared') problems.push(`layer: ${f} (shared/) imports ${d}`);
  if (top(f) === 'device-sim' && top(d) === 'gateway') problems.push(`layer: ${f} (device-sim/) imports ${d}`);
  // the API contract is shared with the dashboard: it may import shared/ and itself, nothing else internal
  if (top(f) === 'api-contract' && top(d) !== 'api-contract' && top(d) !== 'shared')
    problems.push(`layer: ${f} (api-contract/) imports ${d}; the contract imports only shared/`);
  if (top(f) === 'dashboard' && top(d) === 'gateway')
    problems.push(`layer: ${f} (dashboard/) imports ${d}; use the API contract`);
}
function cycles(graph) {
  // Tarjan's strongly connected components: every component with more than one node (or a self-loop) is a cycle.
  let index = 0; const idx = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  const strong = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = []; let w;
      do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? new Set()).has(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}
for (const c of cycles(edges)) problems.push(`file cycle: ${c.join(' ↔ ')}`);
const folderGraph = new Map();
for (const [f, deps] of edges) for (const d of deps) {
  if (folder(f) === folder(d)) continue;
  if (!folderGraph.has(folder(f))) folderGraph.set(folder(f), new Set());
  folderGraph.get(folder(f)).add(folder(d));
}
for (const c of cycles(folderGraph)) {
  const detail = [];
  for (const [f, deps] of edges) for (const d of deps)
    if (folder(f) !== folder(d) && c.includes(folder(f)) && c.includes(folder(d))) detail.push(`    ${f} → ${d}`);
  problems.push(`folder cycle: ${c.join(' ↔ ')}\n${detail.join('\n')}`);
}
problems.push(...storageBoundaryProblems(root));
if (problems.length > 0) {
  console.error(`import check: ${problems.length} problem(s)\n` + problems.join('\n'));
  process.exit(1);
}
console.log(`import check: ${files.length} files, ${folderGraph.size} folders, no cycles, layers respected, no storage outside the registry implementations`);
