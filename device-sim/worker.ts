import { fromHex } from '../shared/index';
import { CONN_STATES, UPDATE_STATE_KINDS, type ConnState, type UpdateStateKind } from './device-state';
import { DeviceStorage } from './device-storage';
import { EnvelopeCheckCache } from './envelope-cache';
import { faultsFor, prng, type DeviceFaults } from './faults';
import { MAX_LISTED_IDS, type ParentMessage, type WorkerConfig, type WorkerCounters, type WorkerMessage } from './fleet-protocol';
import { SimulatedDevice, type DeviceEvent, type DeviceIdentity, type HostAddress } from './simulated-device';

/**
 * A worker process of the fleet runner: runs a slice of the fleet's devices (one MQTT client each), staggers
 * their connects, restarts crashed ones (the crash fault), and reports counts per state to the parent.
 * Started by fleet-runner.ts with node:child_process.fork (IPC channel).
 */
const send = (m: WorkerMessage): void => {
  process.send?.(m);
};

class Worker {
  private readonly devices = new Map<string, SimulatedDevice>();
  private readonly counters: WorkerCounters = {
    applied: 0, verified: 0, rejected: 0, rejectedCodes: {}, refusedConnections: 0, refusedReasons: {}, crashes: 0,
    corruptedBoots: 0, reports: {}, keysetsAccepted: 0, everOnline: 0, disconnects: {},
  };
  private readonly seen = { applied: new Set<string>(), verified: new Set<string>(), rejected: new Set<string>(), online: new Set<string>() };
  private readonly cache = new EnvelopeCheckCache();
  private readonly startedAt = Date.now();
  private readonly baselineRss = process.memoryUsage().rss;
  private firstOnlineAt: number | undefined;
  private lastFirstOnlineAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** PUBACKed acks not yet sent to the parent (WorkerAcked). */
  private acked: string[] = [];

  constructor(private readonly c: WorkerConfig) {}

  async start(): Promise<void> {
    const spacing = 1000 / Math.max(0.001, this.c.connectRate);
    this.timer = setInterval(() => this.progress(false), this.c.progressEveryMs);
    // Connect i starts at t0 + i·spacing (absolute schedule: booting from flash may be slower than the stagger).
    // Boots (reading flash) run 32 at a time so that slow storage does not throttle the connect rate.
    const t0 = Date.now();
    const queue = this.c.identities.map((id, i) => ({ id, at: t0 + i * spacing }));
    const lane = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        await this.boot(next.id, faultsFor(next.id.deviceId, this.c.faults), Math.max(0, Math.round(next.at - Date.now())));
      }
    };
    await Promise.all(Array.from({ length: 32 }, lane));
  }

  private async boot(id: DeviceIdentity, faults: DeviceFaults, delayMs: number): Promise<void> {
    const keyset = { version: this.c.keyset.version, publicKeys: this.c.keyset.publicKeys.map(fromHex) };
    const storage = new DeviceStorage(this.c.dataDir, id.deviceId, {
      keyset, ...(this.c.factoryEnvelope !== undefined ? { envelope: new Uint8Array(Buffer.from(this.c.factoryEnvelope, 'base64')) } : {}),
    }, { fsync: this.c.fsync, cache: this.cache });
    const hostMap = new Map<string, HostAddress>(this.c.hostMap.map(([n, a, p]) => [n, { address: a, port: p }]));
    const device: SimulatedDevice = new SimulatedDevice({
      identity: id,
      broker: { ...this.c.broker, ...(this.c.caPem !== undefined ? { ca: this.c.caPem } : {}) },
      storage, hostMap, faults,
      keepaliveSec: this.c.keepaliveSec, reconnectMinMs: this.c.reconnectMinMs, reconnectMaxMs: this.c.reconnectMaxMs,
      random: prng(`${this.c.faults.seed}/${id.deviceId}/${Date.now()}`),
      onEvent: (e) => this.onEvent(id, faults, e),
    });
    this.devices.set(id.deviceId, device);
    await device.start(delayMs);
  }

  private onEvent(id: DeviceIdentity, faults: DeviceFaults, e: DeviceEvent): void {
    const k = this.counters;
    const once = (set: Set<string>, key: 'applied' | 'verified' | 'rejected') => {
      if (!set.has(id.deviceId)) {
        set.add(id.deviceId);
        k[key]++;
      }
    };
    if (e.type === 'online' && !this.seen.online.has(id.deviceId)) {
      this.seen.online.add(id.deviceId);
      k.everOnline++;
      const now = Date.now();
      this.firstOnlineAt ??= now;
      this.lastFirstOnlineAt = now;
    } else if (e.type === 'acked') {
      this.acked.push(`${id.deviceId}|${e.ack.seq}|${e.ack.status}`);
    } else if (e.type === 'ack') {
      once(this.seen[e.ack.status], e.ack.status);
      if (e.ack.status === 'rejected') k.rejectedCodes[e.ack.code ?? '?'] = (k.rejectedCodes[e.ack.code ?? '?'] ?? 0) + 1;
    } else if (e.type === 'offline') {
      const why = (e.error ?? 'closed').slice(0, 60);
      k.disconnects[why] = (k.disconnects[why] ?? 0) + 1;
    } else if (e.type === 'refused') {
      k.refusedConnections++;
      const why = e.reason.slice(0, 60);
      k.refusedReasons[why] = (k.refusedReasons[why] ?? 0) + 1;
    }
    else if (e.type === 'booted' && e.corrupted !== undefined) k.corruptedBoots++;
    else if (e.type === 'report') k.reports[e.report.result] = (k.reports[e.report.result] ?? 0) + 1;
    else if (e.type === 'keyset' && e.ok) k.keysetsAccepted++;
    else if (e.type === 'crash') {
      k.crashes++;
      if (this.stopping) return;
      // Power comes back after the restart delay; the crash fault fires once per device.
      const { crashRestartMs, ...rest } = faults;
      setTimeout(() => void this.boot(id, { ...rest, corruptStorage: false }, 0), crashRestartMs ?? 1000);
    }
  }

  /** Sends the PUBACKed acks recorded since the last call; resolves once the message is handed to the channel. */
  flushAcked(): Promise<void> {
    if (this.acked.length === 0) return Promise.resolve();
    const keys = this.acked;
    this.acked = [];
    return new Promise((resolve) => {
      if (process.send === undefined) return resolve();
      process.send({ type: 'acked', keys } satisfies WorkerMessage, undefined, {}, () => resolve());
    });
  }

  progress(final: boolean): void {
    void this.flushAcked();
    const conn = Object.fromEntries(CONN_STATES.map((s) => [s, 0])) as Record<ConnState, number>;
    const update = Object.fromEntries(UPDATE_STATE_KINDS.map((s) => [s, 0])) as Record<UpdateStateKind, number>;
    const refusedIds: string[] = [];
    for (const d of this.devices.values()) {
      conn[d.conn]++;
      update[d.update.kind]++;
      if (d.conn === 'refused' && refusedIds.length < MAX_LISTED_IDS) refusedIds.push(d.id);
    }
    send({
      type: 'progress', workerIndex: this.c.workerIndex, devices: this.devices.size, conn, update,
      counters: this.counters, rssBytes: process.memoryUsage().rss, baselineRssBytes: this.baselineRss,
      ...(this.firstOnlineAt !== undefined ? { firstOnlineAt: this.firstOnlineAt } : {}),
      ...(this.lastFirstOnlineAt !== undefined ? { lastFirstOnlineAt: this.lastFirstOnlineAt } : {}),
      startedAt: this.startedAt, final, refusedIds,
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.progress(true); // counts as they were while running
    await Promise.all([...this.devices.values()].map((d) => d.stop()));
    await this.flushAcked(); // PUBACKs that arrived while the devices shut down
  }
}

let worker: Worker | undefined;
process.on('message', (m: ParentMessage) => {
  if (m.type === 'start' && worker === undefined) {
    worker = new Worker(m.config);
    worker.start().catch((e: unknown) => send({ type: 'error', message: (e as Error).stack ?? String(e) }));
  } else if (m.type === 'stop') {
    const w = worker;
    void (async () => {
      await w?.stop();
      process.disconnect?.();
      setTimeout(() => process.exit(0), 200).unref();
    })();
  }
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());
