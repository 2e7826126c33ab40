/**
 * Fleet-scale benchmark of the real system (`npm run bench -- fleet`, results in bench/results/fleet.json).
 *
 * Same processes as the drill (docs/drill.md): the gateway as a child process (`node --import tsx gateway/main.ts`,
 * configured through PINGW_*, ports 0 on 127.0.0.1), N simulated devices in 2 fleet-runner worker processes over
 * MQTT/TLS with pinned keys, everything else over the HTTP API with the admin token. Measured:
 *  1. enrolment through `POST /api/devices` (16 requests in flight, PINGW_CREDENTIAL_SCRYPT_N=1024 as in the drill:
 *     the production default is far costlier per device, so this rate is an upper bound of the API, not of scrypt);
 *  2. factory set {K1, B} published; time from booting the devices until all N are online (gateway and simulator
 *     agree) and the gateway counts all N verified for K1;
 *  3. gateway RSS (VmRSS of the gateway child from /proc) idle, after enrolment, with N devices connected, peak
 *     (VmHWM) and per connected device; simulator worker RSS per device (the workers' own measure);
 *  4. set {K1, K2, B} published; one-wave rollout (100 %, success gate 100 %, soak 0) at PINGW_ROLLOUT_RATE
 *     deliveries/s: time from `start` until all N VERIFIED in the gateway's registry, i.e. deliver → device
 *     receipt check → persist (fsync) → applied ack → TLS verify of the broker → verified ack → SQLite. The rollout
 *     must end with N verified and 0 rejected / timed out, or the bench fails.
 *
 * Environment: FLEET_BENCH_DEVICES (default 10,000; e.g. 1000 for a quick run), FLEET_BENCH_CONNECT_RATE (device
 * connects/s over the fleet, default 150: what this 2-core machine sustained without TLS handshake timeouts while
 * other work ran; at 500/s thousands of handshakes time out and the devices retry, so the phase then measures an
 * overloaded broker), FLEET_BENCH_ROLLOUT_RATE (default 2000), FLEET_BENCH_WORKERS (default 2),
 * FLEET_BENCH_TIMEOUT_MS (whole run, default 15 min), FLEET_BENCH_KEEP=1 keeps the data dir (kept anyway on
 * failure: gateway log, device flash). 10,000 devices take 2.5–3 minutes of wall time on 2 cores.
 * Every child process (gateway, workers) is stopped by pid, also on failure and on Ctrl-C.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceIdentity } from '../device-sim/device-types';
import { DeviceGroup } from '../device-sim/drill/device-group';
import { makeBrokerKey, ServedKeyFiles } from '../device-sim/drill/drill-pki';
import { GatewayApi, type RolloutView } from '../device-sim/drill/gateway-api';
import { GatewayProcess } from '../device-sim/drill/gateway-process';
import { waitUntil } from '../device-sim/wait-until';
import { summaryLine, type FleetTotals } from '../device-sim/fleet-runner';
import { enrolDevices } from '../device-sim/identities';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const FLEET = 'bench';
const BROKER_HOST = 'mqtt.example.com';
const SCRYPT_N = 1024;

function envNum(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return v;
}

/** VmRSS / VmHWM of a process, bytes (Linux /proc). */
async function procMem(pid: number): Promise<{ rssBytes: number; hwmBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (m === null) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
async function procCpuSec(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14, 15 of stat)
}

/** Connection losses by reason between two snapshots of the simulator's counters. */
function lossesSince(before: Record<string, number>, now: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

const mib = (b: number) => +(b / 2 ** 20).toFixed(1);
const kib = (b: number) => +(b / 1024).toFixed(1);
const secs = (ms: number) => +(ms / 1000).toFixed(2);
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);

export async function runFleetBench(): Promise<Record<string, unknown>> {
  const N = Math.round(envNum('FLEET_BENCH_DEVICES', 10_000));
  const connectRate = envNum('FLEET_BENCH_CONNECT_RATE', 150);
  const rolloutRate = envNum('FLEET_BENCH_ROLLOUT_RATE', 2000);
  const workers = Math.round(envNum('FLEET_BENCH_WORKERS', 2));
  const timeoutMs = envNum('FLEET_BENCH_TIMEOUT_MS', 15 * 60_000);
  const keep = process.env['FLEET_BENCH_KEEP'] === '1';
  if (N > 100_000) throw new RangeError('FLEET_BENCH_DEVICES: device ids have 5 digits, at most 100,000 devices');

  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  const left = (what: string) => {
    const ms = deadline - Date.now();
    if (ms <= 0) throw new Error(`fleet bench: gave up after ${Math.round(timeoutMs / 1000)} s (FLEET_BENCH_TIMEOUT_MS) before ${what}`);
    return ms;
  };
  const log = (line: string) => console.log(`t+${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${line}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'pingw-bench-fleet-'));
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  log(`fleet bench: ${N} devices, ${workers} workers, connect rate ${connectRate}/s, rollout rate ${rolloutRate}/s, data in ${dataDir} (load average ${loadAtStart.join(' ')})`);

  let gw: GatewayProcess | undefined;
  let group: DeviceGroup | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () => (cleaned ??= (async () => {
    const g = group, p = gw;
    await g?.powerOff().catch((e: unknown) => console.error(`stopping the device workers: ${String(e)}`));
    await p?.stop().catch((e: unknown) => console.error(`stopping the gateway (pid ${p.pid}): ${String(e)}`));
  })());
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`fleet bench: ${sig}, stopping the device workers and the gateway…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let ok = false;
  try {
    // broker keys (openssl, as an operator makes them) and the gateway serving K1
    const pki = join(dataDir, 'pki');
    const [k1, k2, backup] = [await makeBrokerKey(pki, 'K1', BROKER_HOST), await makeBrokerKey(pki, 'K2', BROKER_HOST), await makeBrokerKey(pki, 'B', BROKER_HOST)];
    const served = new ServedKeyFiles(join(dataDir, 'broker'));
    await served.install(k1);
    const gatewayEnv = {
      PINGW_CREDENTIAL_SCRYPT_N: String(SCRYPT_N),
      PINGW_ROLLOUT_TICK_MS: '250',
      PINGW_ROLLOUT_RATE: String(rolloutRate),
      PINGW_ROLLOUT_BURST: String(Math.max(1, Math.round(rolloutRate))),
      // the broker's host name is not in DNS: the live check of the enforced entry answers "unreachable" quickly
      PINGW_LIVE_CHECK_TIMEOUT_MS: '1000',
    };
    const tStart = Date.now();
    gw = await GatewayProcess.start({
      root: ROOT, dataDir: join(dataDir, 'gateway'), certFile: served.certFile, keyFile: served.keyFile,
      logFile: join(dataDir, 'gateway.log'), env: gatewayEnv,
    });
    const gwProc = gw;
    const api = new GatewayApi(gwProc.apiUrl, gwProc.adminToken);
    const memIdle = await procMem(gwProc.pid);
    log(`gateway started in ${secs(Date.now() - tStart)} s (pid ${gwProc.pid}, MQTT/TLS port ${gwProc.mqttsPort}), RSS ${mib(memIdle.rssBytes)} MiB`);

    // 1. enrolment through the API
    const cpu0 = await procCpuSec(gwProc.pid);
    const tEnrol = Date.now();
    let enrolling = true;
    const enrolTicker = setInterval(() => log(`enrolling… (${Math.round((Date.now() - tEnrol) / 1000)} s)`), 10_000);
    let identities: DeviceIdentity[];
    try {
      identities = await Promise.race([
        enrolDevices({
          api: gwProc.apiUrl, token: gwProc.adminToken, count: N, fleet: FLEET, deviceClass: 'sensor',
          prefix: `${FLEET}-`, cacheFile: join(dataDir, 'identities.json'),
        }),
        new Promise<never>((_, reject) => {
          const check = setInterval(() => {
            if (!enrolling) clearInterval(check);
            else if (Date.now() > deadline) {
              clearInterval(check);
              reject(new Error(`fleet bench: gave up after ${Math.round(timeoutMs / 1000)} s while enrolling`));
            } else if (!gwProc.running) {
              clearInterval(check);
              reject(new Error(`the gateway exited while enrolling:\n${gwProc.tail()}`));
            }
          }, 500);
        }),
      ]);
    } finally {
      enrolling = false;
      clearInterval(enrolTicker);
    }
    const enrolMs = Date.now() - tEnrol;
    const cpuEnrol = (await procCpuSec(gwProc.pid)) - cpu0;
    const memEnrolled = await procMem(gwProc.pid);
    log(`enrolled ${identities.length} devices in ${secs(enrolMs)} s: ${rate(N, enrolMs)} devices/s (gateway CPU ${cpuEnrol.toFixed(1)} s), RSS ${mib(memEnrolled.rssBytes)} MiB`);

    // 2. factory set {K1, B}; boot N devices; wait for all online and verified
    const factory = await api.createPinSet({
      target: { fleet: FLEET },
      hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins: [k1.pin, backup.pin], enforce: true }],
      failOpenAfter: Math.floor(Date.now() / 1000) + 180 * 86_400,
    });
    const envelope = await api.envelopeOf(factory.id);
    const keyset = (await api.keysets()).at(-1);
    if (keyset === undefined) throw new Error('the gateway has no keyset');
    log(`factory pin set seq ${factory.seq} {K1, B} published`);

    const g = (group = new DeviceGroup({
      name: 'fleet', identities, workers, broker: { hostname: BROKER_HOST, address: '127.0.0.1', port: gwProc.mqttsPort },
      keyset: { version: keyset.version, publicKeys: keyset.publicKeys }, factoryEnvelope: envelope,
      dataDir: join(dataDir, 'devices'), connectRate, reconnectMinMs: 500, reconnectMaxMs: 4_000,
    }));
    const explain = () => {
      const t = g.totals();
      return `\n  devices: ${t === undefined ? 'off' : summaryLine(t)}\n  gateway log tail:\n${gwProc.tail(10)}`;
    };
    let lastLog = 0;
    const progress = (what: string) => {
      if (Date.now() - lastLog < 5_000) return;
      lastLog = Date.now();
      const t = g.totals();
      if (t !== undefined) log(`${what}: ${summaryLine(t)}`);
    };
    const cpu1 = await procCpuSec(gwProc.pid);
    const tBoot = Date.now();
    await g.powerOn();
    let gatewayOnline = 0;
    const k1Row = await waitUntil(`${N} devices to connect and verify the factory set`, async () => {
      if (!gwProc.running) throw new Error(`the gateway exited:\n${gwProc.tail()}`);
      progress('connecting');
      if (g.online() !== N) return undefined;
      const row = (await api.coverage(FLEET)).find((r) => r.host === BROKER_HOST && r.pin === k1.pin);
      if (row === undefined || row.verified !== N) return undefined;
      gatewayOnline = (await api.fleetOnline(FLEET)).online;
      return gatewayOnline === N ? row : undefined;
    }, left('the devices connect'), 250, explain);
    const connectMs = Date.now() - tBoot;
    const cpuConnect = (await procCpuSec(gwProc.pid)) - cpu1;
    const connected = g.totals() as FleetTotals;
    const memConnected = await procMem(gwProc.pid);
    log(`${N} devices online and factory set verified (coverage K1 ${k1Row.percent}%) in ${secs(connectMs)} s: ${rate(N, connectMs)} devices/s `
      + `(gateway CPU ${cpuConnect.toFixed(1)} s); gateway RSS ${mib(memConnected.rssBytes)} MiB = ${kib((memConnected.rssBytes - memEnrolled.rssBytes) / N)} KiB/device over enrolled; `
      + `workers ${mib(connected.rssBytes)} MiB = ${kib(connected.rssPerDeviceBytes)} KiB/device`);
    if (connected.counters.refusedConnections > 0) throw new Error(`${connected.counters.refusedConnections} connections refused by devices (pin mismatch): the bench expects none`);

    // 3. new set {K1, K2, B}; one-wave rollout to 100 %
    const next = await api.createPinSet({
      target: { fleet: FLEET },
      hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins: [k1.pin, k2.pin, backup.pin], enforce: true }],
      failOpenAfter: Math.floor(Date.now() / 1000) + 180 * 86_400,
    });
    const created = await api.createRollout({
      pinsetId: next.id, plan: { waves: [{ name: 'all', limit: { percent: 100 } }] }, gates: { successPercent: 100, soakMs: 0 },
    }) as RolloutView & { config: { rate: { perSecond: number; burst: number } } };
    log(`pin set seq ${next.seq} {K1, K2, B} published; rollout ${created.id}: one wave (100 %), ${created.config.rate.perSecond} deliveries/s (burst ${created.config.rate.burst})`);
    const cpu2 = await procCpuSec(gwProc.pid);
    let peakRolloutRss = 0;
    const marks: { allDelivered?: number; allApplied?: number; devicesAllApplied?: number; devicesAllVerified?: number } = {};
    const pollMs: number[] = [];
    const tRollout = Date.now();
    // Device side, sampled locally (the API answers slowly while the gateway is busy; workers report every 250 ms):
    // every device has sent its applied ack (the counter counts devices, and the factory set sent none: it is 0
    // now), then every device is back in the update state "verified" (so it verified the new set: it applied it).
    const appliedBefore = g.totals()?.counters.applied ?? 0;
    const deviceWatch = setInterval(() => {
      const t = g.totals();
      if (t === undefined || appliedBefore !== 0) return;
      if (marks.devicesAllApplied === undefined && t.counters.applied >= N) marks.devicesAllApplied = Date.now() - tRollout;
      if (marks.devicesAllApplied !== undefined && marks.devicesAllVerified === undefined && t.update.verified === N) {
        marks.devicesAllVerified = Date.now() - tRollout;
      }
    }, 50);
    await api.rolloutAction(created.id, 'start');
    const verifiedView = await waitUntil(`the rollout to reach ${N} VERIFIED`, async () => {
      if (!gwProc.running) throw new Error(`the gateway exited:\n${gwProc.tail()}`);
      peakRolloutRss = Math.max(peakRolloutRss, (await procMem(gwProc.pid)).rssBytes);
      const tPoll = Date.now();
      const r: RolloutView = await api.rollout(created.id);
      pollMs.push(Date.now() - tPoll);
      const k = r.executions.byKind;
      // a rollout that went wrong ends the wait at once (waitUntil would retry a throwing condition until the deadline)
      if (k.REJECTED > 0 || k.TIMED_OUT > 0 || r.state.kind === 'PAUSED' || r.state.kind === 'ABORTED') return r;
      const now = Date.now() - tRollout;
      if (marks.allDelivered === undefined && k.QUEUED === 0 && r.executions.total === N) marks.allDelivered = now;
      if (marks.allApplied === undefined && k.APPLIED + k.VERIFIED === N) marks.allApplied = now;
      if (Date.now() - lastLog >= 5_000) {
        lastLog = Date.now();
        log(`rollout: ${Object.entries(k).filter(([, v]) => v > 0).map(([n, v]) => `${n}=${v}`).join(' ')} | gateway RSS ${mib(peakRolloutRss)} MiB`);
      }
      return k.VERIFIED === N ? r : undefined;
    }, left('the rollout'), 100, explain).finally(() => clearInterval(deviceWatch));
    if (verifiedView.executions.byKind.VERIFIED !== N) {
      throw new Error(`rollout ${verifiedView.id} went wrong: state ${JSON.stringify(verifiedView.state)}, counts ${JSON.stringify(verifiedView.executions.byKind)}`);
    }
    const rolloutMs = Date.now() - tRollout;
    const cpuRollout = (await procCpuSec(gwProc.pid)) - cpu2;
    log(`rollout ${created.id}: all ${N} VERIFIED in ${secs(rolloutMs)} s: ${rate(N, rolloutMs)} devices/s end to end (gateway CPU ${cpuRollout.toFixed(1)} s)`);
    const completed = await waitUntil(`rollout ${created.id} to complete`, async () => {
      const r = await api.rollout(created.id);
      return r.state.kind === 'COMPLETED' ? r : undefined;
    }, Math.min(60_000, left('the rollout completes')), 250, explain);
    const counts = completed.executions.byKind;
    const k2Row = (await api.coverage(FLEET)).find((r) => r.host === BROKER_HOST && r.pin === k2.pin);
    const after = g.totals() as FleetTotals;
    const memEnd = await procMem(gwProc.pid);
    const problems = [
      counts.VERIFIED !== N && `VERIFIED ${counts.VERIFIED} ≠ ${N}`,
      counts.REJECTED !== 0 && `REJECTED ${counts.REJECTED}`,
      counts.TIMED_OUT !== 0 && `TIMED_OUT ${counts.TIMED_OUT}`,
      completed.executions.total !== N && `executions ${completed.executions.total} ≠ ${N}`,
      k2Row?.verified !== N && `coverage K2 ${k2Row?.verified ?? 0}/${N}`,
      after.counters.rejected !== 0 && `devices sent ${after.counters.rejected} rejected acks (${JSON.stringify(after.counters.rejectedCodes)})`,
      g.errors.length > 0 && `worker errors: ${g.errors.join('; ')}`,
    ].filter((x): x is string => typeof x === 'string');
    if (problems.length > 0) throw new Error(`rollout ${created.id} did not end with ${N} verified and 0 rejected: ${problems.join(', ')}`);
    log(`rollout ${created.id} COMPLETED: ${counts.VERIFIED} verified, ${counts.REJECTED} rejected, ${counts.TIMED_OUT} timed out; coverage K2 ${k2Row?.percent}%`);

    const wallMs = Date.now() - t0;
    const result = {
      devices: N,
      config: {
        workers, connectRatePerSec: connectRate, rolloutRatePerSec: created.config.rate.perSecond, rolloutBurst: created.config.rate.burst,
        gatewayEnv, credentialScryptN: SCRYPT_N,
        note: `PINGW_CREDENTIAL_SCRYPT_N=${SCRYPT_N} as in the drill (the gateway default is costlier): enrolment and MQTT CONNECT auth are cheaper than in production`,
        deviceFsync: true, transport: 'MQTT over TLS (pinned ECDSA P-256 broker key), all on 127.0.0.1', loadAverageAtStart: loadAtStart,
      },
      enrolment: { seconds: secs(enrolMs), devicesPerSec: rate(N, enrolMs), gatewayCpuSec: +cpuEnrol.toFixed(1), concurrentRequests: 16 },
      connectAndFactoryVerify: {
        seconds: secs(connectMs), devicesPerSec: rate(N, connectMs), gatewayCpuSec: +cpuConnect.toFixed(1),
        simulatorConnectsPerSec: connected.connectsPerSecond ?? null, gatewayOnline, k1Coverage: k1Row.percent,
        connectionLossesByReason: connected.counters.disconnects,
        connectionLosses: Object.values(connected.counters.disconnects).reduce((a, b) => a + b, 0),
        note: `devices start their connects at ${connectRate}/s over the fleet (FLEET_BENCH_CONNECT_RATE), so ${secs((N / connectRate) * 1000)} s is the floor`,
      },
      memory: {
        gateway: {
          pid: gwProc.pid, idleRssMiB: mib(memIdle.rssBytes), enrolledRssMiB: mib(memEnrolled.rssBytes), connectedRssMiB: mib(memConnected.rssBytes),
          peakDuringRolloutRssMiB: mib(peakRolloutRss), endRssMiB: mib(memEnd.rssBytes), hwmMiB: mib(memEnd.hwmBytes),
          rssPerConnectedDeviceKiB: kib(memConnected.rssBytes / N),
          rssPerConnectedDeviceOverEnrolledKiB: kib((memConnected.rssBytes - memEnrolled.rssBytes) / N),
          source: '/proc/<gateway pid>/status VmRSS, VmHWM',
        },
        simulator: {
          workersRssMiB: mib(connected.rssBytes), workersBaselineRssMiB: mib(connected.baselineRssBytes),
          rssPerDeviceKiB: kib(connected.rssPerDeviceBytes), afterRolloutRssPerDeviceKiB: kib(after.rssPerDeviceBytes),
          source: 'process.memoryUsage().rss of each worker, minus its RSS before any device existed',
        },
      },
      rollout: {
        id: created.id, plan: 'one wave, 100 %, success gate 100 %, soak 0',
        secondsToAllVerified: secs(rolloutMs), devicesPerSecEndToEnd: rate(N, rolloutMs),
        secondsToAllDelivered: marks.allDelivered !== undefined ? secs(marks.allDelivered) : null,
        secondsToAllApplied: marks.allApplied !== undefined ? secs(marks.allApplied) : null,
        deviceSide: {
          secondsToAllAppliedAcksSent: marks.devicesAllApplied !== undefined ? secs(marks.devicesAllApplied) : null,
          secondsToAllDevicesVerified: marks.devicesAllVerified !== undefined ? secs(marks.devicesAllVerified) : null,
          note: 'from the simulator workers\' progress (every 250 ms): before the gateway has ingested the acks',
        },
        apiPollLatencyMs: {
          polls: pollMs.length, median: [...pollMs].sort((a, b) => a - b)[Math.floor(pollMs.length / 2)] ?? null,
          max: Math.max(0, ...pollMs), last: pollMs.at(-1) ?? null,
          note: 'GET /api/rollouts/:id while the rollout runs; the time to all VERIFIED is read through it, so it is late by at most the last poll',
        },
        gatewayCpuSec: +cpuRollout.toFixed(1), counts, k2Coverage: k2Row?.percent ?? null,
        deviceAcks: { applied: after.counters.applied, verified: after.counters.verified, rejected: after.counters.rejected },
        onlineAfter: after.conn.online,
        connectionLossesDuringRollout: lossesSince(connected.counters.disconnects, after.counters.disconnects),
        chain: 'deliver → device receipt check → persist (fsync) → applied ack → TLS verify of the broker → verified ack → SQLite',
      },
      wallSeconds: secs(wallMs),
    };
    console.log(JSON.stringify({ ...result, config: undefined }, null, 2));
    ok = true;
    return result;
  } catch (e) {
    console.error(`fleet bench FAILED after ${secs(Date.now() - t0)} s (the whole run is bounded by FLEET_BENCH_TIMEOUT_MS = ${Math.round(timeoutMs / 1000)} s): `
      + `${(e as Error).message}\ngateway log and device flash kept in ${dataDir}`);
    throw e;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ok && !keep) await rm(dataDir, { recursive: true, force: true });
    else if (ok) log(`data kept in ${dataDir}`);
  }
}
