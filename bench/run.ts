/**
 * `npm run bench`: the default set (codec, coverage, ops, and `million`: a million-device rollout through the real
 * gateway without sockets, docs/million.md; the whole set stays under 15 minutes here); results land in
 * bench/results/. Pass names to run a subset. `fleet` (10,000 simulated devices against bare aedes, bare Mosquitto
 * and the gateway on each, side by side: tens of minutes), `transport` (Mosquitto vs embedded, 10,000 enrolments)
 * and `storage` (a million devices on SQLite and on a throw-away PostgreSQL) run only when named:
 * `npm run bench -- fleet`, `npm run bench -- storage`, `npm run bench -- million --devices 20000`.
 */
import { runCodecBench } from './codec';
import { runConsoleBench } from './console';
import { runCoverageBench } from './coverage';
import { runFleetBench } from './fleet';
import { runKillSwitchBench } from './kill-switch';
import { runMillionBench } from './million';
import { runOpsBench } from './ops';
import { runSecurityBench } from './security';
import { runStorageBench } from './storage';
import { runStormBench } from './storm';
import { runTlsBench } from './tls';
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
  tls: runTlsBench,
  transport: runTransportBench,
  console: runConsoleBench,
  million: () => runMillionBench(),
  security: runSecurityBench,
};
/** Suites that run only when asked for by name. */
const onlyWhenNamed = new Set(['fleet', 'kill-switch', 'storm', 'tls', 'transport', 'storage', 'console', 'security']);

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length > 0 ? !wanted.includes(name) : onlyWhenNamed.has(name)) continue;
  console.log(`\n== ${name}`);
  // a suite may name its file (the fleet bench: fleet.json at 10,000 devices, fleet-<N>.json for other counts)
  const { __file, ...result } = await run();
  writeResults(typeof __file === 'string' ? __file : `${name}.json`, result);
}
