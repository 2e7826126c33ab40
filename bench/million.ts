/**
 * `npm run bench -- million [--devices N] [--postgres] [--signature-check memo|full] [--device-workers W] [--in-flight M]`
 * (issue 14 part 5): a million devices without sockets. The real gateway (registry, ingest writer, protocol
 * handlers, rollout driver and engine, coverage counters, API) with the socketless transport of bench/million/
 * in place of the broker; devices check every envelope as SPEC §4 says (signature by node:crypto through
 * shared/cose/ed25519-verify.ts) in a worker thread. Reports time to 50 % / 90 % / every verifiable device
 * verified, with soak 0 and the default plan's waves, peak RSS, readiness latency sampled once a second (p50/p99),
 * acks committed per second. SQLite always; PostgreSQL (a throw-away cluster as in the tests) with --postgres.
 * After the gateway, the bare fan-out (bench/million/bare-fanout.ts) on the same devices, for the ratio; --skip-bare
 * leaves it out. Quick try: `npm run bench -- million --devices 20000`. Notes: docs/million.md.
 */
import { parseArgs } from 'node:util';
import { startPostgres, postgresAvailable } from '../test/support/postgres';
import { runScenario, type ScenarioOptions } from './million/scenario';

function options(argv: readonly string[]): { base: Omit<ScenarioOptions, 'databaseUrl'>; postgres: boolean } {
  const s = { type: 'string' } as const;
  const { values: v } = parseArgs({
    // the suite names of `npm run bench -- codec million …` are positionals (bench/run.ts picks the suites)
    args: argv,
    allowPositionals: true,
    options: { devices: s, 'signature-check': s, 'device-workers': s, 'in-flight': s, 'max-seconds': s, postgres: { type: 'boolean' }, 'skip-bare': { type: 'boolean' } },
    strict: true,
  });
  const num = (x: string | undefined, d: number, name: string) => {
    const n = x === undefined ? d : Number(x);
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`--${name} must be a whole number, got "${x}"`);
    return n;
  };
  const devices = num(v.devices, 1_000_000, 'devices');
  if (devices < 100 || devices > 9_999_999) throw new TypeError('--devices must be in 100..9,999,999');
  const signatureCheck = v['signature-check'] ?? 'memo';
  if (signatureCheck !== 'full' && signatureCheck !== 'memo') throw new TypeError('--signature-check must be full or memo');
  return {
    base: {
      devices,
      signatureCheck,
      deviceWorkers: num(v['device-workers'], 1, 'device-workers'),
      maxInFlight: Math.max(1, num(v['in-flight'], 10_000, 'in-flight')),
      // bounded so that `npm run bench` (which includes this case) ends within its 15 minutes even on a bad day:
      // past it the result says not finished, with the marks reached (docs/million.md)
      maxSeconds: num(v['max-seconds'], 480, 'max-seconds'),
      sampleEveryMs: 1000,
      bare: v['skip-bare'] !== true,
      log: (line) => console.log(line),
    },
    postgres: v.postgres === true || process.env['MILLION_POSTGRES'] === '1',
  };
}

function brief(r: Record<string, unknown>): void {
  const ro = r['rollout'] as Record<string, unknown>;
  console.log(`  rollout: ${JSON.stringify(ro['reachedSeconds'])} s; finished ${String(ro['finished'])} in ${String(ro['seconds'])} s; ` +
    `acks ${String(ro['acksCommittedPerSec'])}/s; readiness ${JSON.stringify(ro['readinessMs'])} ms; peak RSS ${String(ro['peakRssMiB'])} MiB`);
}

export async function runMillionBench(argv: readonly string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const { base, postgres } = options(argv);
  const results: Record<string, unknown> = base.devices === 1_000_000 ? {} : { __file: `million-${base.devices}.json` };
  console.log(`\nSQLite: ${base.devices.toLocaleString('en-US')} devices`);
  const sqlite = await runScenario({ ...base, databaseUrl: null });
  brief(sqlite);
  results['sqlite'] = sqlite;
  if (postgres && postgresAvailable()) {
    const server = await startPostgres();
    try {
      console.log(`\nPostgreSQL 15: ${base.devices.toLocaleString('en-US')} devices`);
      const pg = await runScenario({ ...base, databaseUrl: server.url(await server.createDatabase()) });
      brief(pg);
      results['postgres'] = pg;
    } finally {
      await server.stop();
    }
  }
  return results;
}
