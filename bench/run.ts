/**
 * `npm run bench`: every benchmark; results land in bench/results/. Pass names to run a subset. `fleet` (the real
 * gateway with 10,000 simulated devices, minutes of wall time), `transport` (Mosquitto vs embedded, 10,000
 * enrolments) and `storage` (a million devices on SQLite and on a throw-away PostgreSQL) run only when named:
 * `npm run bench -- fleet`, `npm run bench -- storage`.
 */
import { runCodecBench } from './codec';
import { runConsoleBench } from './console';
import { runCoverageBench } from './coverage';
import { runFleetBench } from './fleet';
import { runKillSwitchBench } from './kill-switch';
import { runOpsBench } from './ops';
import { runSecurityBench } from './security';
import { runStorageBench } from './storage';
import { runStormBench } from './storm';
import { runTransportBench } from './transport';
import { writeResults } from './harness';

const suites: Record<string, () => Promise<Record<string, unknown>>> = {
  codec: runCodecBench,
  coverage: runCoverageBench,
  fleet: runFleetBench,
  'kill-switch': runKillSwitchBench,
  ops: runOpsBench,
  storage: runStorageBench,
  storm: runStormBench,
  transport: runTransportBench,
  console: runConsoleBench,
  security: runSecurityBench,
};
/** Suites that run only when asked for by name. */
const onlyWhenNamed = new Set(['fleet', 'kill-switch', 'storm', 'transport', 'storage', 'console', 'security']);

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length > 0 ? !wanted.includes(name) : onlyWhenNamed.has(name)) continue;
  console.log(`\n== ${name}`);
  writeResults(`${name}.json`, await run());
}
