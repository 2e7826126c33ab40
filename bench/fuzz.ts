/**
 * `npm run fuzz [-- CASES]`: the suite's seed-pinned fuzz targets (test/hardening/fuzz-targets.ts) at ≥ 100,000
 * cases each — every MQTT payload handler over a real connection, every API route with a body through the real
 * app — against a fresh gateway. Writes bench/results/fuzz.json; exits 1 if any invariant broke.
 */
import { removeDir, startTestGateway, tempDir } from '../test/gateway/helpers/test-gateway';
import { apiBodyRoutes, fuzzApiRoute, fuzzMqtt, type FuzzResult } from '../test/hardening/fuzz-targets';
import { writeResults } from './harness';

const SEED = 17;
const cases = Math.max(100_000, Number(process.argv[2] ?? 100_000) || 100_000);

const dir = tempDir('pingw-fuzz-');
const gw = await startTestGateway(dir);
const results: FuzzResult[] = [];
try {
  for (const kind of ['hello', 'ack', 'report'] as const) {
    const r = await fuzzMqtt(gw, kind, cases, SEED);
    console.log(`${r.target.padEnd(44)} ${r.cases.toLocaleString('en-US')} cases ${r.perSec.toLocaleString('en-US')}/s failures ${r.failures.length}`);
    results.push(r);
  }
  for (const route of await apiBodyRoutes(gw)) {
    const r = await fuzzApiRoute(gw, route, cases, SEED);
    console.log(`${r.target.padEnd(44)} ${r.cases.toLocaleString('en-US')} cases ${r.perSec.toLocaleString('en-US')}/s failures ${r.failures.length}`);
    results.push(r);
  }
} finally {
  await gw.stop();
  removeDir(dir);
}
const failures = results.reduce((n, r) => n + r.failures.length, 0);
writeResults('fuzz.json', { seed: SEED, casesPerTarget: cases, targets: results.length, failures, results });
process.exit(failures === 0 ? 0 : 1);
