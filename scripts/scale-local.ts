/**
 * The scale-out set-up on one machine, for people (docs/scale.md "Run it on one machine"):
 *
 *   npx tsx scripts/scale-local.ts [--replicas 2] [--dir ./data-scale] [--http-port 18080]
 *                                  [--device-port 18883] [--backend-port 18884]
 *   npx tsx scripts/scale-local.ts stop [--dir ./data-scale]      (from another shell)
 *
 * Starts Mosquitto (deploy/mosquitto, test CA made by openssl), PostgreSQL 15 primary + streaming replica, and N
 * gateway replicas, prints what to run next, then waits. Typed commands: `status` (which replica leads), `kill N`
 * (SIGKILL replica N, as a crash), `restart N`, `stop`. Ctrl-C, SIGTERM, `stop` or `scale-local.ts stop` stop every
 * process by its pid. While it runs, `<dir>/drill-target.json` tells `npm run drill -- --target FILE` where the
 * set-up is (device-sim/drill/target-file.ts); it is rewritten after kill/restart and removed at stop.
 * Port 0 = a free port. The set-up is throw-away: the database and broker live in temporary directories removed at stop, and --dir is
 * emptied at start (only when it is one of ours: it holds scale.json).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeDrillTarget } from '../device-sim/drill/target-file';
import { pidAlive as isAlive } from '../test/support/child-process';
import { startScaleStack, type ScaleStack } from './scale-stack';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

function portArg(name: string, raw: string | undefined, def: number): number {
  const v = raw === undefined ? def : Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new TypeError(`--${name}: expected a port number, got ${JSON.stringify(raw)}`);
  return v;
}

function stopRunning(dir: string): number {
  const marker = join(dir, 'scale.json');
  if (!existsSync(marker)) {
    process.stderr.write(`no running set-up in ${dir} (no scale.json)\n`);
    return 1;
  }
  const { supervisor } = JSON.parse(readFileSync(marker, 'utf8')) as { supervisor: number };
  try {
    process.kill(supervisor, 'SIGTERM'); // the supervisor stops every process it started, by pid
    process.stdout.write(`sent SIGTERM to the scale-local supervisor (pid ${supervisor}); it stops every process it started\n`);
    return 0;
  } catch {
    process.stderr.write(`the supervisor (pid ${supervisor}) is not running\n`);
    return 1;
  }
}

function nextSteps(s: ScaleStack, dir: string): string {
  const api = s.gateways[0]?.apiUrl ?? '';
  const token = join(dir, 'gateway', 'admin.token');
  const sim = join(dir, 'sim');
  const lines = [
    '',
    'scale set-up running:',
    ...s.gateways.map((g, i) => `  gateway replica ${i}: ${g.apiUrl.replace(/\/api$/, '/')}  (pid ${g.pid}; dashboard + API, log ${join(dir, `gateway-${i}.log`)})`),
    `  mosquitto (pid ${s.mosquitto.pid}): devices mqtts://127.0.0.1:${s.mosquitto.devicePort} (CA ${s.brokerCaFile}), backend ${s.mosquitto.backendUrl}`,
    `  postgresql: primary ${s.databaseUrl}, streaming replica ${s.readUrl}`,
    `  admin token: ${token}`,
    `  drill target file: ${join(dir, 'drill-target.json')} (removed at stop)`,
    '',
    'the key-rotation drill against this set-up, in another shell (docs/scale.md "Run it on one machine"):',
    `  npm run drill -- --target ${join(dir, 'drill-target.json')} --devices 200`,
    '  then here, during its rollout: status (who leads) | kill N | restart N',
    '',
    'or devices of your own, in another shell:',
    `  npx tsx device-sim/keyset-from-gateway.ts --api ${api.replace(/\/api$/, '')} --token-file ${token} --out ${sim}/keyset.json`,
    `  npx tsx device-sim/main.ts --devices 200 --fleet demo --class sensor --mqtt mqtts://127.0.0.1:${s.mosquitto.devicePort} \\`,
    `    --broker-host localhost --ca ${s.brokerCaFile} --api ${api.replace(/\/api$/, '')} --token-file ${token} \\`,
    `    --prefix demo- --keyset ${sim}/keyset.json --data ${sim}`,
    '  then a pin set and a rollout through any replica (README "A first rollout"), and here: kill 1 / restart 1 / status / stop',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseArgs({
    options: { replicas: s, dir: s, 'http-port': s, 'device-port': s, 'backend-port': s, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const dir = resolve(v.dir ?? 'data-scale');
  if (v.help === true) {
    process.stdout.write('usage: npx tsx scripts/scale-local.ts [--replicas 2] [--dir ./data-scale] [--http-port 18080] [--device-port 18883] [--backend-port 18884]\n'
      + '       npx tsx scripts/scale-local.ts stop [--dir ./data-scale]\n');
    return 0;
  }
  if (positionals[0] === 'stop') return stopRunning(dir);
  if (positionals.length > 0) throw new TypeError(`unknown command ${JSON.stringify(positionals[0])} (expected none, or "stop")`);
  const replicas = Number(v.replicas ?? '2');
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new TypeError(`--replicas: expected 1…16, got ${JSON.stringify(v.replicas)}`);
  const marker = join(dir, 'scale.json');
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(marker)) throw new Error(`${dir} is not empty and not a scale-local directory (no scale.json): give another --dir`);
    const { supervisor } = JSON.parse(readFileSync(marker, 'utf8')) as { supervisor: number };
    if (isAlive(supervisor)) throw new Error(`a set-up is already running from ${dir} (supervisor pid ${supervisor}); stop it first`);
    rmSync(dir, { recursive: true, force: true }); // throw-away: its database is gone with the last run
  }
  const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);
  // Ctrl-C while starting: exit through process.exit, so the broker's and the database's exit guards
  // (test/support) stop them by pid
  const early = () => process.exit(130);
  process.once('SIGINT', early);
  process.once('SIGTERM', early);
  const stack = await startScaleStack({
    root: ROOT, dir, replicas,
    httpPort: portArg('http-port', v['http-port'], 18080),
    // 0 = a free port (tests)
    brokerPorts: Object.fromEntries(Object.entries({
      device: portArg('device-port', v['device-port'], 18883), backend: portArg('backend-port', v['backend-port'], 18884),
    }).filter(([, p]) => p !== 0)),
    // PINGW_* settings of this shell reach every replica (e.g. PINGW_ROLLOUT_SOAK_MS=5000)
    gatewayEnv: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PINGW_') && e[1] !== undefined)),
    log,
  });
  const targetFile = join(dir, 'drill-target.json');
  const writeMarker = () => {
    writeFileSync(marker, `${JSON.stringify({ supervisor: process.pid, pids: stack.pids() }, null, 2)}\n`);
    writeDrillTarget(targetFile, stack.drillTarget());
  };
  writeMarker();
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  process.stdout.write(nextSteps(stack, dir));

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => (stopping ??= (async () => {
    log(`${why}: stopping ${JSON.stringify(stack.pids())}`);
    rmSync(targetFile, { force: true }); // first: a drill starting now must not find a set-up that is going away
    await stack.stop();
    rmSync(marker, { force: true });
    log('stopped');
  })());
  const done = new Promise<void>((ok) => {
    process.once('SIGINT', () => void stop('SIGINT').then(ok));
    process.once('SIGTERM', () => void stop('SIGTERM').then(ok));
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => void command(line.trim()).catch((e: unknown) => log(`error: ${(e as Error).message}`)));
    rl.on('close', () => {}); // stdin closed (run in the background): keep running until a signal
    const command = async (c: string) => {
      const [verb, arg] = c.split(/\s+/);
      const i = Number(arg);
      const g = stack.gateways[i];
      if (verb === 'stop') return void stop('stop').then(() => (rl.close(), ok()));
      if (verb === 'status' || verb === '') return log(JSON.stringify(Object.fromEntries(stack.gateways.map((x, k) => [`gateway-${k}`, x.running ? `pid ${x.pid} ${x.apiUrl}${stack.leader() === k ? ' (leader)' : ''}` : 'down']))));
      if ((verb === 'kill' || verb === 'restart') && g === undefined) return log(`no replica ${arg ?? ''} (0…${stack.gateways.length - 1})`);
      if (verb === 'kill' && g !== undefined) {
        const wasLeader = stack.leader() === i;
        await g.kill();
        writeMarker();
        return log(`replica ${i} (pid ${g.pid}${wasLeader ? ', the leader' : ''}) killed with SIGKILL`);
      }
      if (verb === 'restart') {
        const n = await stack.restart(i);
        writeMarker();
        return log(`replica ${i} started again: pid ${n.pid}, ${n.apiUrl}`);
      }
      log('commands: status | kill N | restart N | stop');
    };
  });
  await done;
  return 0;
}


main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`scale-local: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
