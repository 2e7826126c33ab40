import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { keysetFromJson, toHex } from '../shared/index';
import { parseCli, USAGE } from './cli-args';
import { reasonsLine, startFleet, summaryLine } from './fleet-runner';
import { enrolDevices, loadIdentities } from './identities';

/**
 * The device-sim CLI: runs N simulated devices of one fleet and class against an mqtts broker, spread over
 * worker processes; prints a summary line every --progress seconds and a final JSON summary on exit
 * (after --duration seconds, or on Ctrl-C). Exit code 1 on bad arguments or worker failures.
 */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let a;
  try {
    a = parseCli(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const keysetJson = keysetFromJson(JSON.parse(await readFile(a.keyset, 'utf8')) as unknown);
  if (!keysetJson.ok) throw new Error(`--keyset: ${keysetJson.error}`);
  const dataDir = resolve(a.data);
  await mkdir(dataDir, { recursive: true });
  let ids = a.identities !== undefined
    ? await loadIdentities(a.identities)
    : await enrolDevices({
      api: a.api as string, token: a.token as string, count: a.devices, fleet: a.fleet, deviceClass: a.deviceClass,
      prefix: a.prefix, cacheFile: join(dataDir, 'identities.json'),
    });
  ids = ids.filter((d) => d.fleet === a.fleet && d.deviceClass === a.deviceClass).slice(0, a.devices);
  if (ids.length < a.devices) process.stderr.write(`only ${ids.length} identities for fleet ${a.fleet} / class ${a.deviceClass}\n`);
  const fleet = startFleet({
    identities: ids, workers: a.workers, connectRate: a.connectRate,
    broker: { hostname: a.brokerHost, address: a.mqtt.hostname, port: Number(a.mqtt.port || 8883) },
    ...(a.ca !== undefined ? { caPem: await readFile(a.ca, 'utf8') } : {}),
    keyset: { version: keysetJson.value.version, publicKeys: keysetJson.value.publicKeys.map(toHex) },
    ...(a.factory !== undefined ? { factoryEnvelope: (await readFile(a.factory)).toString('base64') } : {}),
    hostMap: a.hosts, dataDir: join(dataDir, 'devices'), faults: a.faults, progressEveryMs: a.progressSec * 1000,
    fsync: a.fsync, keepaliveSec: a.keepaliveSec, reconnectMinMs: 1_000, reconnectMaxMs: 60_000,
  });
  let lastWhy = '';
  let reportedErrors = 0;
  const tick = setInterval(() => {
    const t = fleet.totals();
    process.stdout.write(`${summaryLine(t)}\n`);
    // Say why devices were refused while it runs, not only in the final JSON (only when it changed).
    const why = reasonsLine(t);
    if (why !== '' && why !== lastWhy) process.stdout.write(`${why}\n`);
    lastWhy = why;
    for (const e of fleet.errors.slice(reportedErrors)) process.stderr.write(`device-sim: ${e}\n`);
    reportedErrors = fleet.errors.length;
  }, a.progressSec * 1000);
  await new Promise<void>((done) => {
    const finish = () => done();
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (a.durationSec !== undefined) setTimeout(finish, a.durationSec * 1000);
  });
  clearInterval(tick);
  const totals = await fleet.stop();
  process.stdout.write(`${summaryLine(totals)}\n${JSON.stringify({ summary: totals, errors: fleet.errors }, null, 2)}\n`);
  return fleet.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`device-sim: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(1);
  },
);
