import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONN_STATES, UPDATE_STATE_KINDS, type ConnState, type UpdateStateKind } from './device-state';
import type { DeviceIdentity } from './device-types';
import type { ParentMessage, WorkerConfig, WorkerCounters, WorkerMessage, WorkerProgress } from './fleet-protocol';

/**
 * Runs a fleet of simulated devices spread over worker processes (node:child_process.fork with tsx), so that
 * thousands of devices — one MQTT client and TLS socket each — use both cores. Devices are dealt round-robin
 * to workers; each worker staggers its connects at connectRate / workers per second.
 */
export type FleetConfig = Omit<WorkerConfig, 'workerIndex' | 'identities' | 'connectRate'> & {
  readonly identities: readonly DeviceIdentity[];
  readonly workers: number;
  /** Connects per second over the whole fleet. */
  readonly connectRate: number;
};

export interface FleetTotals {
  readonly devices: number;
  readonly conn: Record<ConnState, number>;
  readonly update: Record<UpdateStateKind, number>;
  readonly counters: WorkerCounters;
  readonly rssBytes: number;
  readonly baselineRssBytes: number;
  /** (RSS of all workers − their RSS before any device existed) / devices. */
  readonly rssPerDeviceBytes: number;
  /** Devices that came online at least once, per second from the first connect to the last first-connect. */
  readonly connectsPerSecond?: number;
  readonly elapsedMs: number;
  /** Devices refusing the broker now (their last attempt failed the pin check), sorted; capped per worker. */
  readonly refusedIds: readonly string[];
}

export interface FleetHandle {
  totals(): FleetTotals;
  /** Resolves once every worker reported at least once. */
  ready: Promise<void>;
  stop(): Promise<FleetTotals>;
  readonly errors: string[];
  /** The devices' record of PUBACKed acks, `deviceId|seq|status` → PUBACKs received (WorkerAcked). */
  readonly acked: ReadonlyMap<string, number>;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

function addCounters(a: WorkerCounters, b: WorkerCounters): WorkerCounters {
  const merge = (x: Record<string, number>, y: Record<string, number>) => {
    const r = { ...x };
    for (const [k, v] of Object.entries(y)) r[k] = (r[k] ?? 0) + v;
    return r;
  };
  return {
    applied: a.applied + b.applied, verified: a.verified + b.verified, rejected: a.rejected + b.rejected,
    rejectedCodes: merge(a.rejectedCodes, b.rejectedCodes), refusedConnections: a.refusedConnections + b.refusedConnections,
    refusedReasons: merge(a.refusedReasons, b.refusedReasons),
    crashes: a.crashes + b.crashes, corruptedBoots: a.corruptedBoots + b.corruptedBoots, reports: merge(a.reports, b.reports),
    keysetsAccepted: a.keysetsAccepted + b.keysetsAccepted, everOnline: a.everOnline + b.everOnline,
    disconnects: merge(a.disconnects, b.disconnects),
  };
}

export function startFleet(cfg: FleetConfig): FleetHandle {
  const n = Math.max(1, Math.min(cfg.workers, cfg.identities.length || 1));
  const latest = new Map<number, WorkerProgress>();
  const errors: string[] = [];
  const acked = new Map<string, number>();
  const started = Date.now();
  const children: ChildProcess[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const { workers: _w, identities, connectRate, ...shared } = cfg;
  for (let w = 0; w < n; w++) {
    // More libuv threads: thousands of devices fsync their flash files concurrently.
    const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'error') errors.push(`worker ${w}: ${m.message}`);
      else if (m.type === 'acked') for (const k of m.keys) acked.set(k, (acked.get(k) ?? 0) + 1);
      else {
        latest.set(m.workerIndex, m);
        if (latest.size === n) markReady();
      }
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) errors.push(`worker ${w} exited with ${code}`);
    });
    const config: WorkerConfig = {
      ...shared, workerIndex: w, connectRate: connectRate / n,
      identities: identities.filter((_, i) => i % n === w),
    };
    child.send({ type: 'start', config } satisfies ParentMessage);
  }

  const totals = (): FleetTotals => {
    const conn = Object.fromEntries(CONN_STATES.map((s) => [s, 0])) as Record<ConnState, number>;
    const update = Object.fromEntries(UPDATE_STATE_KINDS.map((s) => [s, 0])) as Record<UpdateStateKind, number>;
    let counters: WorkerCounters = {
      applied: 0, verified: 0, rejected: 0, rejectedCodes: {}, refusedConnections: 0, refusedReasons: {}, crashes: 0,
      corruptedBoots: 0, reports: {}, keysetsAccepted: 0, everOnline: 0, disconnects: {},
    };
    let devices = 0, rss = 0, base = 0;
    const refusedIds: string[] = [];
    let first: number | undefined, last: number | undefined;
    for (const p of latest.values()) {
      devices += p.devices;
      rss += p.rssBytes;
      base += p.baselineRssBytes;
      for (const s of CONN_STATES) conn[s] += p.conn[s];
      for (const s of UPDATE_STATE_KINDS) update[s] += p.update[s];
      counters = addCounters(counters, p.counters);
      refusedIds.push(...p.refusedIds);
      if (p.firstOnlineAt !== undefined) first = Math.min(first ?? Infinity, p.firstOnlineAt);
      if (p.lastFirstOnlineAt !== undefined) last = Math.max(last ?? 0, p.lastFirstOnlineAt);
    }
    const span = first !== undefined && last !== undefined ? (last - first) / 1000 : 0;
    return {
      devices, conn, update, counters, rssBytes: rss, baselineRssBytes: base,
      rssPerDeviceBytes: devices > 0 ? Math.round((rss - base) / devices) : 0,
      ...(span > 0 ? { connectsPerSecond: Math.round(counters.everOnline / span) } : {}),
      elapsedMs: Date.now() - started, refusedIds: refusedIds.sort(),
    };
  };

  const stop = async (): Promise<FleetTotals> => {
    const exits = children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
      kill.unref();
    }));
    // the IPC channel closes after the worker's last message was read (its final PUBACK record)
    const channels = children.map((c) => (c.connected ? new Promise<void>((resolve) => c.once('disconnect', () => resolve())) : Promise.resolve()));
    for (const c of children) if (c.connected) c.send({ type: 'stop' } satisfies ParentMessage);
    await Promise.all([...exits, ...channels]);
    return totals();
  };

  return { totals, ready, stop, errors, acked };
}

/** One line for people: connection states | update states | memory. */
export function summaryLine(t: FleetTotals): string {
  const nz = (r: Record<string, number>) => Object.entries(r).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v}`).join(' ');
  return `t=${Math.round(t.elapsedMs / 1000)}s devices=${t.devices} | ${nz(t.conn)} | ${nz(t.update)} | acks applied=${t.counters.applied} `
    + `verified=${t.counters.verified} rejected=${t.counters.rejected} | rss=${Math.round(t.rssBytes / 1048576)}MB `
    + `(${(t.rssPerDeviceBytes / 1024).toFixed(1)} KB/device)${t.connectsPerSecond !== undefined ? ` | ${t.connectsPerSecond} connects/s` : ''}`;
}

/**
 * Why devices are not online, while the fleet runs: the broker refusing a device (its CONNACK reason, e.g. a bad or
 * revoked credential), a device refusing the broker (pin mismatch), and rejected pin sets by SPEC §4 code. Empty
 * when there is nothing to explain. Counts are cumulative.
 */
export function reasonsLine(t: FleetTotals): string {
  const top = (r: Record<string, number>, label: string) =>
    Object.entries(r).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${label}${k} ×${v}`);
  const disconnects = Object.fromEntries(Object.entries(t.counters.disconnects).filter(([k]) => k !== 'closed'));
  const parts = [
    ...top(disconnects, 'broker/network: '),
    ...top(t.counters.refusedReasons, 'device refused broker: '),
    ...top(t.counters.rejectedCodes, 'pin set rejected: '),
  ];
  return parts.length === 0 ? '' : `why: ${parts.join('; ')}`;
}
