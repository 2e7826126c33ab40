import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DRILL, type DrillOptions } from './drill-setup';
import { KeyRotationDrill } from './scenario';
import { Timeline } from './timeline';

/**
 * `npm run drill [-- --devices 1000 --offline-percent 5 --data DIR --out bench/results/drill.json --keep]`:
 * the end-to-end key-rotation drill (docs/drill.md). Starts its own gateway process and simulated fleet, prints a
 * timeline, writes it as JSON to --out and to <data>/drill.json. Exit code 0 only if every step held.
 *
 * `--target FILE` drills a running scale set-up instead (scripts/scale-local.ts writes FILE): the replicas' API,
 * devices on Mosquitto, and at the end the exactly-once check of every PUBACKed ack (docs/drill.md).
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

async function main(): Promise<number> {
  const s = { type: 'string' } as const;
  const { values: v } = parseArgs({
    options: {
      devices: s, 'offline-percent': s, data: s, out: s, keep: { type: 'boolean' }, 'soak-ms': s, workers: s,
      'connect-rate': s, 'broker-host': s, target: s, fleet: s, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (v.help === true) {
    process.stdout.write('usage: npm run drill -- [--devices 1000] [--offline-percent 5] [--data DIR] [--out bench/results/drill.json] [--keep]\n'
      + '       [--soak-ms 1000] [--workers 2] [--connect-rate 250] [--broker-host mqtt.example.com] [--fleet drill]\n'
      + '       --target FILE   drill a running scale set-up (FILE: data-scale/drill-target.json, written by scripts/scale-local.ts);\n'
      + '                       then --fleet defaults to drill-<random>, --broker-host to localhost, --out to bench/results/drill-scale.json\n');
    return 0;
  }
  const num = (x: string | undefined, def: number) => (x === undefined ? def : Number(x));
  const dataDir = v.data !== undefined ? resolve(v.data) : await mkdtemp(join(tmpdir(), 'pin-drill-'));
  const targetFile = v.target === undefined ? undefined : resolve(v.target);
  // Against a set-up that lives on, each run enrols a fleet of its own (device ids cannot be enrolled twice), and the
  // broker is named localhost: the replicas' own probes (live check, drift watch) must reach it by that name.
  const scale: Partial<Pick<DrillOptions, 'targetFile' | 'fleet' | 'brokerHost'>> = targetFile === undefined ? {}
    : { targetFile, fleet: `drill-${randomBytes(2).toString('hex')}`, brokerHost: 'localhost' };
  const o: DrillOptions = {
    ...DEFAULT_DRILL, ...scale, root: ROOT, dataDir, ...(v.fleet === undefined ? {} : { fleet: v.fleet }),
    devices: num(v.devices, DEFAULT_DRILL.devices), offlinePercent: num(v['offline-percent'], DEFAULT_DRILL.offlinePercent),
    soakMs: num(v['soak-ms'], DEFAULT_DRILL.soakMs), workers: num(v.workers, DEFAULT_DRILL.workers),
    connectRate: num(v['connect-rate'], DEFAULT_DRILL.connectRate), brokerHost: v['broker-host'] ?? scale.brokerHost ?? DEFAULT_DRILL.brokerHost,
  };
  for (const [k, x] of Object.entries({ devices: o.devices, offlinePercent: o.offlinePercent, soakMs: o.soakMs, workers: o.workers, connectRate: o.connectRate })) {
    if (!Number.isFinite(x) || x < 0) throw new TypeError(`--${k}: not a number`);
  }
  const out = resolve(v.out ?? join(ROOT, targetFile === undefined ? 'bench/results/drill.json' : 'bench/results/drill-scale.json'));
  const timeline = new Timeline();
  process.stdout.write(`key-rotation drill: ${o.devices} devices, ${o.offlinePercent}% offline, data in ${dataDir}${targetFile === undefined ? '' : `; against the scale set-up of ${targetFile}, fleet ${o.fleet}`}\n`);
  const drill = new KeyRotationDrill(o, timeline);
  const interrupt = () => {
    process.stderr.write('interrupted: stopping the devices and the gateway…\n');
    void drill.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let code = 0;
  try {
    const result = await drill.run();
    const meta = { drill: 'key-rotation', at: new Date().toISOString(), options: { ...o, root: undefined }, result };
    await timeline.writeJson(join(dataDir, 'drill.json'), meta);
    await timeline.writeJson(out, { ...meta, options: { ...o, root: undefined, dataDir: undefined } });
    process.stdout.write(`\ndrill finished in ${result.wallSeconds} s; timeline written to ${out}\n`);
  } catch (e) {
    timeline.add('failed', `drill FAILED: ${(e as Error).message}`);
    await timeline.writeJson(join(dataDir, 'drill.json'), { drill: 'key-rotation', failed: (e as Error).message });
    process.stderr.write(targetFile === undefined ? `gateway log: ${join(dataDir, 'gateway.log')}\n` : `replica logs: ${dirname(targetFile)}/gateway-N.log\n`);
    code = 1;
  } finally {
    await drill.cleanup();
    const errors = drill.workerErrors();
    if (errors.length > 0) {
      process.stderr.write(`device worker errors:\n${errors.join('\n')}\n`);
      code = 1;
    }
  }
  if (code === 0 && v.keep !== true && v.data === undefined) await rm(dataDir, { recursive: true, force: true });
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`drill: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
