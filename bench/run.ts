/**
 * `npm run bench`: every benchmark; results land in bench/results/. Pass names to run a subset. `fleet` (the real
 * gateway with 10,000 simulated devices, minutes of wall time) runs only when named: `npm run bench -- fleet`.
 */
import { runCodecBench } from './codec';
import { runCoverageBench } from './coverage';
import { runFleetBench } from './fleet';
import { runStorageBench } from './storage';
import { runStormBench } from './storm';
import { writeResults } from './harness';

const suites: Record<string, () => Promise<Record<string, unknown>>> = {
  codec: runCodecBench,
  coverage: runCoverageBench,
  fleet: runFleetBench,
  storage: runStorageBench,
  storm: runStormBench,
};
/** Suites that run only when asked for by name. */
const onlyWhenNamed = new Set(['fleet', 'storm']);

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length > 0 ? !wanted.includes(name) : onlyWhenNamed.has(name)) continue;
  console.log(`\n== ${name}`);
  writeResults(`${name}.json`, await run());
}
