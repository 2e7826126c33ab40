/**
 * Side-by-side fleet benchmark (`npm run bench -- fleet`, issues 13 + 14): the same N simulated devices (fleet-runner
 * worker processes: pinned MQTT/TLS, the SPEC §4 receipt check, fsync of their flash, the verify handshake to the
 * broker, acks) against, one after the other in the same run:
 *  - bare-aedes: the bare aedes broker (same version, options and certificate as the embedded one) with an
 *    in-process publisher that sends the signed envelope to every device topic and counts the acks;
 *  - bare-mosquitto: Mosquitto 2 (deploy/mosquitto, password file) with a minimal MQTT publisher;
 *  - embedded: the gateway (`node --import tsx gateway/main.ts`) on its embedded broker, SQLite;
 *  - mosquitto-pg: the gateway as FLEET_BENCH_REPLICAS replica(s) on PostgreSQL 15 (primary + streaming read
 *    replica), devices on Mosquitto (scripts/scale-stack.ts, as scripts/scale-local.ts starts it).
 * Per case: connects/s, TLS handshake time-outs, API p99 latency during the connect storm, RSS per connected device
 * of gateway(s) and broker, time to 95 % and 100 % verified after the update is published to every device at
 * FLEET_BENCH_ROLLOUT_RATE/s (gateway: a one-wave rollout, success gate 100 %, soak 0; bare: the publisher's token
 * bucket with the same rate and burst). Then each gateway case as a ratio to its bare broker (goal ≤ 1.5× at 10,000).
 *
 * Environment: FLEET_BENCH_DEVICES (default 10,000; 200 runs in a couple of minutes), FLEET_BENCH_BROKER
 * (`embedded`: bare-aedes + embedded; `mosquitto`: bare-mosquitto + mosquitto-pg; default both) or
 * FLEET_BENCH_CASES (a comma list of the four names), FLEET_BENCH_REPLICAS (default 1: until leader election
 * lands a second replica's driver never hears of the acks the other commits, docs/scale.md), FLEET_BENCH_CONNECT_RATE
 * (default 150/s), FLEET_BENCH_ROLLOUT_RATE (default 2000/s), FLEET_BENCH_WORKERS (default 2),
 * FLEET_BENCH_TIMEOUT_MS (whole run, default 40 min), FLEET_BENCH_KEEP=1 keeps the data dir.
 * Results: bench/results/fleet.json at 10,000 devices, bench/results/fleet-<N>.json otherwise.
 * Every child process (gateways, brokers, PostgreSQL, publishers, device workers) is stopped by pid, also on failure.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareAedes, bareMosquitto, makeBenchKey, type BenchKeys } from './fleet-cases/bare-systems';
import { runFleet, type FleetSystem } from './fleet-cases/fleet-run';
import { gatewayEmbedded, gatewayEnv, gatewayMosquittoPg } from './fleet-cases/gateway-systems';
import { envNum } from './fleet-cases/proc-stats';
import { ratios } from './fleet-cases/fleet-ratios';

const CASES = ['bare-aedes', 'bare-mosquitto', 'embedded', 'mosquitto-pg'] as const;
type CaseName = (typeof CASES)[number];

function wantedCases(): CaseName[] {
  const list = process.env['FLEET_BENCH_CASES'];
  if (list !== undefined && list !== '') {
    const names = list.split(',').map((s) => s.trim());
    for (const n of names) if (!(CASES as readonly string[]).includes(n)) throw new TypeError(`FLEET_BENCH_CASES: unknown case ${JSON.stringify(n)} (${CASES.join(', ')})`);
    return names as CaseName[];
  }
  const broker = process.env['FLEET_BENCH_BROKER'] ?? 'both';
  if (broker === 'embedded') return ['bare-aedes', 'embedded'];
  if (broker === 'mosquitto') return ['bare-mosquitto', 'mosquitto-pg'];
  if (broker === 'both') return [...CASES];
  throw new TypeError(`FLEET_BENCH_BROKER: expected embedded, mosquitto or both, got ${JSON.stringify(broker)}`);
}

export async function runFleetBench(): Promise<Record<string, unknown>> {
  const N = Math.round(envNum('FLEET_BENCH_DEVICES', 10_000));
  const connectRate = envNum('FLEET_BENCH_CONNECT_RATE', 150);
  const rolloutRate = Math.round(envNum('FLEET_BENCH_ROLLOUT_RATE', 2000));
  const workers = Math.round(envNum('FLEET_BENCH_WORKERS', 2));
  const replicas = Math.round(envNum('FLEET_BENCH_REPLICAS', 1));
  const timeoutMs = envNum('FLEET_BENCH_TIMEOUT_MS', 40 * 60_000);
  const keep = process.env['FLEET_BENCH_KEEP'] === '1';
  if (N > 100_000) throw new RangeError('FLEET_BENCH_DEVICES: device ids have 5 digits, at most 100,000 devices');
  process.env['FLEET_BENCH_ROLLOUT_RATE'] = String(rolloutRate); // the bare publishers read it
  const cases = wantedCases();
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  const log = (line: string) => console.log(`t+${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${line}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'pingw-bench-fleet-'));
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  log(`fleet bench: ${N} devices, cases ${cases.join(', ')}; ${workers} workers, connect rate ${connectRate}/s, update rate ${rolloutRate}/s; `
    + `data in ${dataDir} (load average ${loadAtStart.join(' ')})`);

  let current: FleetSystem | undefined;
  let devicesOff: (() => Promise<unknown>) | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`fleet bench: ${sig}, stopping the device workers and the current case…`);
    void (devicesOff?.() ?? Promise.resolve()).catch(() => undefined)
      .then(() => current?.stop()).catch(() => undefined).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ok = false;
  try {
    const pki = join(dataDir, 'pki');
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    const keys: BenchKeys = { k1: makeBenchKey(pki, 'K1'), k2: makeBenchKey(pki, 'K2'), backup: makeBenchKey(pki, 'B') };
    const results: Record<string, Record<string, unknown>> = {};
    for (const name of cases) {
      const dir = join(dataDir, name);
      mkdirSync(dir, { recursive: true });
      log(`== ${name}: starting`);
      const loadAvg = loadavg().map((x) => +x.toFixed(2));
      const tSetup = Date.now();
      current = name === 'bare-aedes' ? await bareAedes(N, keys, dir)
        : name === 'bare-mosquitto' ? await bareMosquitto(N, keys)
          : name === 'embedded' ? await gatewayEmbedded(N, keys, dir, rolloutRate)
            : await gatewayMosquittoPg(N, keys, dir, rolloutRate, replicas);
      const sys = current;
      const setupSeconds = +((Date.now() - tSetup) / 1000).toFixed(1);
      try {
        const r = await runFleet(sys, { workers, connectRate, dataDir: join(dir, 'devices'), deadline, log, onDevices: (off) => (devicesOff = off) });
        results[name] = { ...r, setupSeconds, loadAverageAtStart: loadAvg, ...('enrolment' in sys ? { enrolment: sys.enrolment } : {}) };
      } finally {
        await sys.stop().catch((e: unknown) => log(`stopping ${name}: ${String(e)}`));
        current = undefined;
      }
    }
    const result = {
      __file: N === 10_000 ? 'fleet.json' : `fleet-${N}.json`,
      devices: N,
      config: {
        cases, workers, connectRatePerSec: connectRate, updateRatePerSec: rolloutRate, replicas, gatewayEnv: gatewayEnv(rolloutRate),
        credentialChecks: `gateway embedded: PBKDF2-SHA512 101 iterations per CONNECT (the $7$ form, default since issue 17; runs before it used scrypt N=1024); Mosquitto (bare and gateway): the same, from its password file; bare aedes: a constant-time compare against an in-memory map`,
        replicasNote: replicas === 1
          ? 'one gateway replica: until leader election and cross-replica events land, a second replica would commit half the acks without the driving replica hearing of them (docs/scale.md)'
          : `${replicas} gateway replicas on one PostgreSQL`,
        deviceFsync: true, transport: 'MQTT over TLS (pinned ECDSA P-256 broker key), all on 127.0.0.1', loadAverageAtStart: loadAtStart,
      },
      cases: results,
      ratios: ratios(results),
      wallSeconds: +((Date.now() - t0) / 1000).toFixed(1),
    };
    console.log(JSON.stringify({ cases: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { connect: v['connect'], rollout: v['rollout'] }])), ratios: result.ratios }, null, 2));
    ok = true;
    return result;
  } catch (e) {
    console.error(`fleet bench FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(e as Error).message}\nlogs and device flash kept in ${dataDir}`);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ok && !keep) await rm(dataDir, { recursive: true, force: true });
  }
}
