import type { DeviceIdentity } from '../../device-sim/device-types';
import { DeviceGroup } from '../../device-sim/drill/device-group';
import { summaryLine, type FleetTotals } from '../../device-sim/fleet-runner';
import { waitUntil } from '../../device-sim/wait-until';
import { kib, mib, percentile, procCpuSec, procMem, rate, secs } from './proc-stats';

/**
 * One case of the side-by-side fleet bench: a system the same simulated devices connect to (the bare fan-out or
 * the gateway in some set-up). The runner does the rest identically for every case: boot the devices, measure the
 * connect storm, publish the update to every device at the same rate, time 95 % and 100 % verified.
 */
export interface FleetSystem {
  readonly name: string;
  readonly broker: { readonly hostname: string; readonly address: string; readonly port: number };
  readonly identities: readonly DeviceIdentity[];
  readonly keyset: { readonly version: number; readonly publicKeys: readonly string[] };
  /** The factory pin set {K1, B} the devices hold, base64 COSE_Sign1. */
  readonly factoryEnvelope: string;
  /** Processes whose memory and CPU the case reports ("gateway" includes the embedded broker). */
  processes(): { readonly role: 'broker' | 'gateway' | 'bare'; readonly pid: number }[];
  /** One API request whose latency is sampled during the connect storm; null = the system has no API. */
  readonly apiProbe: { readonly what: string; call(): Promise<unknown> } | null;
  /** The system's own view agrees that the fleet is up (gateway: all online, factory set verified by all). */
  settled(): Promise<boolean>;
  /** Publishes the update {K1, K2, B} to every device (gateway: a one-wave rollout; bare: the publisher). */
  startRollout(): Promise<void>;
  /** Devices verified in the system's own view (gateway registry; bare publisher's acks); `failed` ends the run. */
  progress(): Promise<{ verified: number; failed: string | null }>;
  /** null while healthy; why it died otherwise. */
  dead(): string | null;
  stop(): Promise<void>;
}

export interface FleetRunOptions {
  readonly workers: number;
  readonly connectRate: number;
  readonly dataDir: string;
  readonly deadline: number;
  readonly log: (line: string) => void;
  /** Told how to power the devices off (the bench's Ctrl-C handler stops them before it exits). */
  readonly onDevices?: (powerOff: () => Promise<unknown>) => void;
}

const left = (deadline: number, what: string) => {
  const ms = deadline - Date.now();
  if (ms <= 0) throw new Error(`fleet bench: out of time (FLEET_BENCH_TIMEOUT_MS) before ${what}`);
  return ms;
};

/** Connection losses whose reason is a TLS handshake that timed out (the simulator's reason text). */
export function tlsTimeouts(disconnects: Record<string, number>): number {
  return Object.entries(disconnects).filter(([k]) => /TLS handshake.*timed out/i.test(k)).reduce((a, [, v]) => a + v, 0);
}

export async function runFleet(sys: FleetSystem, o: FleetRunOptions): Promise<Record<string, unknown>> {
  const N = sys.identities.length;
  const procs = sys.processes();
  const memBefore = await Promise.all(procs.map((p) => procMem(p.pid)));
  const cpuBefore = await Promise.all(procs.map((p) => procCpuSec(p.pid)));
  const group = new DeviceGroup({
    name: sys.name, identities: sys.identities, workers: o.workers, broker: sys.broker, keyset: sys.keyset,
    factoryEnvelope: sys.factoryEnvelope, dataDir: o.dataDir, connectRate: o.connectRate, reconnectMinMs: 500, reconnectMaxMs: 4_000,
  });
  o.onDevices?.(() => group.powerOff());
  const explain = () => {
    const t = group.totals();
    return `\n  devices: ${t === undefined ? 'off' : summaryLine(t)}`;
  };
  let lastLog = 0;
  const progressLog = (what: string) => {
    if (Date.now() - lastLog < 5_000) return;
    lastLog = Date.now();
    const t = group.totals();
    if (t !== undefined) o.log(`${sys.name} ${what}: ${summaryLine(t)}`);
  };
  try {
    // 1. connect storm: every device connects over pinned TLS, subscribes, says hello; API latency sampled meanwhile
    const latencies: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling && sys.apiProbe !== null) {
        const t0 = performance.now();
        try {
          await sys.apiProbe.call();
          latencies.push(performance.now() - t0);
        } catch {
          latencies.push(performance.now() - t0); // an error answer is an answer: its time counts
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const tBoot = Date.now();
    await group.powerOn();
    let allOnlineMs: number | null = null;
    await waitUntil(`${N} devices to connect (${sys.name})`, async () => {
      const dead = sys.dead();
      if (dead !== null) throw new Error(`the gateway exited: ${dead}`);
      progressLog('connecting');
      if (group.online() !== N) return false;
      allOnlineMs ??= Date.now() - tBoot;
      return sys.settled();
    }, left(o.deadline, 'the devices connect'), 250, explain);
    const settledMs = Date.now() - tBoot;
    sampling = false;
    await sampler;
    const connected = group.totals() as FleetTotals;
    const memConnected = await Promise.all(procs.map((p) => procMem(p.pid)));
    const cpuConnected = await Promise.all(procs.map((p) => procCpuSec(p.pid)));
    const onlineMs = allOnlineMs ?? settledMs;
    o.log(`${sys.name}: ${N} devices online in ${secs(onlineMs)} s (settled ${secs(settledMs)} s), ${connected.connectsPerSecond ?? '?'} connects/s, `
      + `${tlsTimeouts(connected.counters.disconnects)} TLS handshake time-outs, API p99 ${percentile(latencies, 99) ?? 'n/a'} ms`);
    if (connected.counters.refusedConnections > 0) throw new Error(`${connected.counters.refusedConnections} connections refused by devices (pin mismatch)`);

    // 2. the update to every device; 95 % and 100 % verified in the system's own view and on the devices
    const tRoll = Date.now();
    await sys.startRollout();
    const at95 = Math.ceil(0.95 * N);
    const marks: { sys95?: number; sys100?: number; dev95?: number; dev100?: number; devAllVerified?: number } = {};
    // Device side, from the simulator's progress (every 250 ms): devices that sent their applied ack for the update
    // (the factory set sends none, so the counter starts at 0), then all devices back in the update state
    // "verified" once every one has applied (the factory set's own verification also leaves them "verified").
    const deviceWatch = setInterval(() => {
      const t = group.totals();
      if (t === undefined) return;
      const applied = t.counters.applied;
      if (marks.dev95 === undefined && applied >= at95) marks.dev95 = Date.now() - tRoll;
      if (marks.dev100 === undefined && applied >= N) marks.dev100 = Date.now() - tRoll;
      if (marks.dev100 !== undefined && marks.devAllVerified === undefined && t.update.verified >= N) marks.devAllVerified = Date.now() - tRoll;
    }, 50);
    let peak = memConnected.map((m) => m.rssBytes);
    try {
      await waitUntil(`${N} devices verified (${sys.name})`, async () => {
        const dead = sys.dead();
        if (dead !== null) throw new Error(`the gateway exited: ${dead}`);
        const p = await sys.progress();
        if (p.failed !== null) throw new Error(p.failed);
        const now = Date.now() - tRoll;
        if (marks.sys95 === undefined && p.verified >= at95) marks.sys95 = now;
        if (p.verified >= N) marks.sys100 = now;
        if (Date.now() - lastLog >= 5_000) {
          peak = (await Promise.all(procs.map((x) => procMem(x.pid)))).map((m, i) => Math.max(m.rssBytes, peak[i] ?? 0));
          progressLog(`rollout (${p.verified} verified)`);
        }
        return marks.sys100 !== undefined;
      }, left(o.deadline, 'the rollout'), 100, explain);
    } finally {
      clearInterval(deviceWatch);
    }
    const cpuEnd = await Promise.all(procs.map((p) => procCpuSec(p.pid)));
    const after = group.totals() as FleetTotals;
    o.log(`${sys.name}: 95 % verified in ${secs(marks.sys95 ?? 0)} s, 100 % in ${secs(marks.sys100 ?? 0)} s`);
    const memory = procs.map((p, i) => ({
      role: p.role, pid: p.pid,
      rssBeforeDevicesMiB: mib(memBefore[i]?.rssBytes ?? 0), rssConnectedMiB: mib(memConnected[i]?.rssBytes ?? 0),
      peakDuringRolloutRssMiB: mib(peak[i] ?? 0),
      rssPerConnectedDeviceKiB: kib(((memConnected[i]?.rssBytes ?? 0) - (memBefore[i]?.rssBytes ?? 0)) / N),
      cpuSecConnect: +((cpuConnected[i] ?? 0) - (cpuBefore[i] ?? 0)).toFixed(1),
      cpuSecRollout: +((cpuEnd[i] ?? 0) - (cpuConnected[i] ?? 0)).toFixed(1),
    }));
    const perDevice = (roles: string[]) => {
      const xs = memory.filter((m) => roles.includes(m.role));
      return xs.length === 0 ? null : +xs.reduce((a, m) => a + m.rssPerConnectedDeviceKiB, 0).toFixed(1);
    };
    return {
      case: sys.name, devices: N,
      connect: {
        secondsAllOnline: secs(onlineMs), secondsSettled: secs(settledMs),
        devicesPerSec: rate(N, onlineMs), simulatorConnectsPerSec: connected.connectsPerSecond ?? null,
        tlsHandshakeTimeouts: tlsTimeouts(connected.counters.disconnects),
        connectionLossesByReason: connected.counters.disconnects,
        api: sys.apiProbe === null ? null : {
          what: sys.apiProbe.what, samples: latencies.length,
          p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: percentile(latencies, 100),
        },
      },
      memory: {
        processes: memory,
        // the gateway's figure includes its embedded broker when there is one
        gatewayRssPerConnectedDeviceKiB: perDevice(['gateway']), brokerRssPerConnectedDeviceKiB: perDevice(['broker', 'bare']),
        simulatorRssPerDeviceKiB: kib(connected.rssPerDeviceBytes),
      },
      rollout: {
        secondsTo95Verified: marks.sys95 !== undefined ? secs(marks.sys95) : null,
        secondsTo100Verified: marks.sys100 !== undefined ? secs(marks.sys100) : null,
        deviceSide: {
          secondsTo95AppliedAcksSent: marks.dev95 !== undefined ? secs(marks.dev95) : null,
          secondsTo100AppliedAcksSent: marks.dev100 !== undefined ? secs(marks.dev100) : null,
          secondsToAllDevicesVerified: marks.devAllVerified !== undefined ? secs(marks.devAllVerified) : null,
          note: 'simulator progress every 250 ms, before the system has seen the acks',
        },
        deviceAcks: { applied: after.counters.applied, verified: after.counters.verified, rejected: after.counters.rejected },
        connectionLossesDuringRollout: Object.fromEntries(Object.entries(after.counters.disconnects)
          .map(([k, v]) => [k, v - (connected.counters.disconnects[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
      },
      workerErrors: group.errors,
    };
  } finally {
    await group.powerOff().catch((e: unknown) => o.log(`stopping the device workers: ${String(e)}`));
  }
}
