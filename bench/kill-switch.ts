/**
 * Kill switch benchmark (issue 16 §1, `npm run bench -- kill-switch`, results in bench/results/kill-switch.json).
 *
 * The real system as in the fleet bench (bench/fleet.ts): the gateway as a child process, N simulated devices
 * (default 1,000) in worker processes over MQTT/TLS with the broker key pinned by their factory set {K1, B}. Then
 * `POST /api/kill-switch` for the broker host, and the clock runs from that request until 95 % (and 100 %) of the
 * online devices hold the kill set in the gateway's registry: each device has received it, run the SPEC §4
 * checks, persisted it (fsync), and its applied ack is committed. Polled every 25 ms through
 * `GET /api/kill-switch/:id` (so a figure is late by at most one poll).
 *
 * Environment: KILL_BENCH_DEVICES (default 1000), KILL_BENCH_CONNECT_RATE (150/s), KILL_BENCH_WORKERS (2),
 * KILL_BENCH_TIMEOUT_MS (whole run, default 10 min). Every child process is stopped by pid, also on failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeviceGroup } from '../device-sim/drill/device-group';
import { makeBrokerKey, ServedKeyFiles } from '../device-sim/drill/drill-pki';
import { GatewayApi } from '../device-sim/drill/gateway-api';
import { GatewayProcess } from '../device-sim/drill/gateway-process';
import { waitUntil } from '../device-sim/wait-until';
import { summaryLine } from '../device-sim/fleet-runner';
import { enrolDevices } from '../device-sim/identities';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const FLEET = 'killbench';
const BROKER_HOST = 'mqtt.example.com';

function envNum(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return v;
}
const secs = (ms: number) => +(ms / 1000).toFixed(3);

interface KillView {
  id: number;
  seq: number;
  coverage: { total: number; online: number; have: number; onlineHave: number; percentOnline: number };
  delivery: { devices: number; published: number; queued: number };
}

export async function runKillSwitchBench(): Promise<Record<string, unknown>> {
  const N = Math.round(envNum('KILL_BENCH_DEVICES', 1000));
  const connectRate = envNum('KILL_BENCH_CONNECT_RATE', 150);
  const workers = Math.round(envNum('KILL_BENCH_WORKERS', 2));
  const timeoutMs = envNum('KILL_BENCH_TIMEOUT_MS', 10 * 60_000);
  const t0 = Date.now();
  const left = () => Math.max(1, t0 + timeoutMs - Date.now());
  const log = (line: string) => console.log(`t+${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${line}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'pingw-bench-kill-'));
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  let gw: GatewayProcess | undefined;
  let group: DeviceGroup | undefined;
  const cleanup = async () => {
    await group?.powerOff().catch((e: unknown) => console.error(`stopping the device workers: ${String(e)}`));
    await gw?.stop().catch((e: unknown) => console.error(`stopping the gateway: ${String(e)}`));
  };
  let ok = false;
  try {
    const pki = join(dataDir, 'pki');
    const [k1, backup] = [await makeBrokerKey(pki, 'K1', BROKER_HOST), await makeBrokerKey(pki, 'B', BROKER_HOST)];
    const served = new ServedKeyFiles(join(dataDir, 'broker'));
    await served.install(k1);
    gw = await GatewayProcess.start({
      root: ROOT, dataDir: join(dataDir, 'gateway'), certFile: served.certFile, keyFile: served.keyFile, logFile: join(dataDir, 'gateway.log'),
      env: { PINGW_LIVE_CHECK_TIMEOUT_MS: '1000', PINGW_ROLLOUT_TICK_MS: '250' },
    });
    const proc = gw;
    const api = new GatewayApi(proc.apiUrl, proc.adminToken);
    const identities = await enrolDevices({
      api: proc.apiUrl, token: proc.adminToken, count: N, fleet: FLEET, deviceClass: 'sensor', prefix: `${FLEET}-`, cacheFile: join(dataDir, 'identities.json'),
    });
    log(`enrolled ${identities.length} devices`);
    const factory = await api.createPinSet({
      target: { fleet: FLEET },
      hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins: [k1.pin, backup.pin], enforce: true }],
    });
    const keyset = (await api.keysets()).at(-1);
    if (keyset === undefined) throw new Error('the gateway has no keyset');
    const g = (group = new DeviceGroup({
      name: 'fleet', identities, workers, broker: { hostname: BROKER_HOST, address: '127.0.0.1', port: proc.mqttsPort },
      keyset: { version: keyset.version, publicKeys: keyset.publicKeys }, factoryEnvelope: await api.envelopeOf(factory.id),
      dataDir: join(dataDir, 'devices'), connectRate, reconnectMinMs: 500, reconnectMaxMs: 4_000,
    }));
    await g.powerOn();
    await waitUntil(`${N} devices online`, async () => {
      if (!proc.running) throw new Error(`the gateway exited:\n${proc.tail()}`);
      return g.online() === N && (await api.fleetOnline(FLEET)).online === N;
    }, left(), 250, () => `\n  devices: ${(() => { const t = g.totals(); return t === undefined ? 'off' : summaryLine(t); })()}`);
    log(`${N} devices online over pinned TLS`);

    let tKill = Date.now();
    // device side, from the simulator workers' progress (every 250 ms): devices that sent their applied ack
    const appliedBefore = g.totals()?.counters.applied ?? 0;
    const deviceMarks: { p95?: number; p100?: number } = {};
    const deviceWatch = setInterval(() => {
      const applied = (g.totals()?.counters.applied ?? 0) - appliedBefore;
      if (deviceMarks.p95 === undefined && applied >= 0.95 * N) deviceMarks.p95 = Date.now() - tKill;
      if (deviceMarks.p100 === undefined && applied >= N) deviceMarks.p100 = Date.now() - tKill;
    }, 50);
    tKill = Date.now();
    const kill = await api.call<KillView>('POST', '/api/kill-switch', {
      fleet: FLEET, host: BROKER_HOST, mode: 'fail-open', reason: 'bench: broker key compromised', confirm: BROKER_HOST,
    });
    const answeredMs = Date.now() - tKill;
    log(`kill switch ${kill.id} engaged (seq ${kill.seq}); API answered in ${answeredMs} ms: ${JSON.stringify(kill.delivery)}`);
    const marks: { p50?: number; p95?: number; p100?: number } = {};
    let onlineAtKill = 0;
    const final = await waitUntil('every online device to hold the kill set', async () => {
      const v = await api.call<KillView>('GET', `/api/kill-switch/${kill.id}`);
      const ms = Date.now() - tKill;
      onlineAtKill = Math.max(onlineAtKill, v.coverage.online);
      const share = v.coverage.online === 0 ? 0 : v.coverage.onlineHave / v.coverage.online;
      if (marks.p50 === undefined && share >= 0.5) marks.p50 = ms;
      if (marks.p95 === undefined && share >= 0.95) marks.p95 = ms;
      if (share >= 1) marks.p100 = ms;
      return share >= 1 ? v : undefined;
    }, left(), 25).finally(() => clearInterval(deviceWatch));
    log(`95 % of online devices held the kill set after ${marks.p95} ms, 100 % after ${marks.p100} ms`);
    const result = {
      devices: N,
      onlineAtKill,
      config: { workers, connectRatePerSec: connectRate, transport: 'MQTT over TLS, pinned broker key, all on 127.0.0.1', deviceFsync: true, loadAverageAtStart: loadAtStart },
      killSwitch: {
        apiAnsweredMs: answeredMs,
        msTo50PercentOnline: marks.p50 ?? null,
        msTo95PercentOnline: marks.p95 ?? null,
        msTo100PercentOnline: marks.p100 ?? null,
        delivery: kill.delivery,
        finalCoverage: final.coverage,
        deviceSide: {
          msTo95PercentAppliedAcksSent: deviceMarks.p95 ?? null,
          msTo100PercentAppliedAcksSent: deviceMarks.p100 ?? null,
          note: 'from the simulator workers\' progress messages (every 250 ms, later under load): an upper bound of when the devices had checked, persisted (fsync) and acked the kill set; the gateway-side figures above are the measure',
        },
        measuredAs: 'from sending POST /api/kill-switch until GET /api/kill-switch/:id counts the share of online devices whose applied ack is committed (polled every 25 ms)',
      },
      wallSeconds: secs(Date.now() - t0),
    };
    console.log(JSON.stringify(result, null, 2));
    ok = true;
    return result;
  } finally {
    await cleanup();
    if (ok) await rm(dataDir, { recursive: true, force: true });
    else console.error(`kill switch bench failed; gateway log and device flash kept in ${dataDir}`);
  }
}
