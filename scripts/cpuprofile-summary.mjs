#!/usr/bin/env node
/**
 * `node scripts/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--inclusive NAME,NAME…]`: where a `node --cpu-prof`
 * profile spent its time. Prints the self time per function and per file (share of all samples, idle excluded
 * from the shares), and optionally the inclusive time of named functions (self time of every node under a frame
 * of that name, counted once per sample). Used for the million-device bench (docs/million.md).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, inclusive: { type: 'string' } } });
const file = positionals[0];
if (file === undefined) {
  console.error('usage: node scripts/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--inclusive NAME,NAME…]');
  process.exit(2);
}
const top = Number(values.top ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// time per sample: timeDeltas[i] is the time before sample i
const selfUs = new Map();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const short = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/)/, '$1').replace(/^.*?\/(gateway|bench|shared|test)\//, '$1/');
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

let total = 0;
let idle = 0;
const fn = new Map();
const files = new Map();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  total += us;
  if (n.callFrame.functionName === '(idle)') idle += us;
  fn.set(label(n), (fn.get(label(n)) ?? 0) + us);
  const f = n.callFrame.url === '' ? n.callFrame.functionName : short(n.callFrame.url);
  files.set(f, (files.get(f) ?? 0) + us);
}
const busy = total - idle;
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const print = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)} ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle; shares below are of the ${(busy / 1e6).toFixed(1)} s busy`);
print('self time by function', fn);
print('self time by file', files);

if (values.inclusive !== undefined) {
  const names = values.inclusive.split(',');
  const incl = new Map(names.map((x) => [x, 0]));
  for (const [id, us] of selfUs) {
    const hit = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur).callFrame.functionName;
      if (incl.has(name)) hit.add(name);
    }
    for (const name of hit) incl.set(name, incl.get(name) + us);
  }
  print('inclusive time of the named functions', incl);
}
