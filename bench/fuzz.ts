/**
 * `npm run fuzz [-- CASES] [--only TARGET,…]`: the suite's seed-pinned fuzz targets (test/hardening/fuzz-targets.ts)
 * at ≥ 100,000 cases each — every MQTT payload handler over a real connection, every API route with a body (all
 * of /api/openapi.json's request bodies, whatever the method) through the real app — against a fresh gateway.
 * `--only` runs the targets whose name contains one of the given texts (e.g. `--only rotation-plans,kill-switch`)
 * and merges them into bench/results/fuzz.json, keeping the other targets' last results (each with its date).
 * The file lists the targets the gateway has now that no run covered yet (`missing`). Exits 1 if an invariant broke.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, startTestGateway, tempDir } from '../test/gateway/helpers/test-gateway';
import { apiBodyRoutes, fuzzApiRoute, fuzzMqtt, type FuzzResult } from '../test/hardening/fuzz-targets';
import { writeResults } from './harness';

const SEED = 17;
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',').filter((s) => s !== '') : null;
const positional = args.filter((a, i) => !a.startsWith('--') && (onlyAt < 0 || i !== onlyAt + 1));
const cases = Math.max(100_000, Number(positional[0] ?? 100_000) || 100_000);
const wanted = (target: string) => only === null || only.some((o) => target.includes(o));

type Dated = FuzzResult & { date?: string };
const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'fuzz.json');
const previous: Dated[] = only !== null && existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { results?: Dated[]; date?: string }).results ?? []) : [];
const previousDate = only !== null && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { date?: string }).date : undefined;

const dir = tempDir('pingw-fuzz-');
const gw = await startTestGateway(dir);
const results: Dated[] = [];
const all: string[] = [];
const now = new Date().toISOString();
const log = (r: FuzzResult) => console.log(`${r.target.padEnd(52)} ${r.cases.toLocaleString('en-US')} cases ${r.perSec.toLocaleString('en-US')}/s failures ${r.failures.length}`);
try {
  for (const kind of ['hello', 'ack', 'report'] as const) {
    all.push(`mqtt ${kind}`);
    if (!wanted(`mqtt ${kind}`)) continue;
    const r = await fuzzMqtt(gw, kind, cases, SEED);
    log(r);
    results.push({ ...r, date: now });
  }
  for (const route of await apiBodyRoutes(gw)) {
    const target = `api ${route.method} ${route.path}`;
    all.push(target);
    if (!wanted(target)) continue;
    const r = await fuzzApiRoute(gw, route, cases, SEED);
    log(r);
    results.push({ ...r, date: now });
  }
} finally {
  await gw.stop();
  removeDir(dir);
}
// a merge keeps the earlier results of the targets not run now (they carry the date of their run)
const merged = all.flatMap((t) => {
  const r = results.find((x) => x.target === t) ?? previous.find((x) => x.target === t);
  return r === undefined ? [] : [{ ...r, date: r.date ?? previousDate }];
});
const missing = all.filter((t) => !merged.some((r) => r.target === t));
const failures = merged.reduce((n, r) => n + r.failures.length, 0);
writeResults('fuzz.json', { seed: SEED, casesPerTarget: Math.min(...merged.map((r) => r.cases)), targets: merged.length, missing, failures, results: merged });
if (missing.length > 0) console.log(`targets not fuzzed yet: ${missing.join(', ')}`);
process.exit(failures === 0 ? 0 : 1);
