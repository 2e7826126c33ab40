/** `npm run bench`: every benchmark; results land in bench/results/. Pass names to run a subset. */
import { runCodecBench } from './codec';
import { runCoverageBench } from './coverage';
import { writeResults } from './harness';

const suites: Record<string, () => Promise<Record<string, unknown>>> = {
  codec: runCodecBench,
  coverage: runCoverageBench,
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name}`);
  writeResults(`${name}.json`, await run());
}
