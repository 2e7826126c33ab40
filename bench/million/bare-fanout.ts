import Database from 'better-sqlite3';
import { join } from 'node:path';
import { decodeAck, toHex } from '../../shared/index';
import type { TransportHandlers } from '../../gateway/transport/device-transport';
import { DeviceFleetModel, deviceIdOf, fateCounts, fateOf, type FleetSpec } from './device-model';
import { inThreadDevices, workerDevices, type DeviceSide } from './device-side';
import { SocketlessTransport } from './socketless-transport';

/**
 * The bare baseline of the million bench (issue 14: "a ratio against the bare parts measured in the same run"): the
 * same devices (device-side.ts, the same SPEC §4 receipt check, the same worker threads), the same socketless
 * transport with its in-flight bound and PUBACK-after-commit rule, the gateway's own signed envelope — and none of
 * the gateway: no registry, no rollout engine, no waves or gates, no coverage counters. A minimal publisher sends
 * the envelope to every online device at once (in chunks of 1,000 with an event-loop turn between, as the driver
 * does) and a minimal writer commits each ack row to a SQLite file (WAL, synchronous NORMAL, as the registry)
 * in group commits of up to 1,000 rows; the transport resolves an ack only after its commit, as with the gateway.
 * What the gateway adds on top is what the ratio shows: the registry's rows and counters per ack, the rollout
 * engine's executions, and the default plan's five waves, each started only when the one before passed its gate.
 */
export interface BareOptions {
  spec: FleetSpec;
  envelope: Uint8Array;
  dataDir: string;
  deviceWorkers: number;
  maxInFlight: number;
  maxSeconds: number;
}

export interface BareResult {
  finished: boolean;
  seconds: number;
  reachedSeconds: Record<string, number>;
  /** The same marks in milliseconds, unrounded (the ratio's denominator: a small run's marks round to 0.0 s). */
  reachedMs: Record<string, number>;
  processCpuSeconds: number;
  acksCommitted: number;
  failures: number;
}

/** Group commit of ack rows: an ack's promise resolves after the transaction holding it committed. */
class BareAckWriter {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly commit: (rows: unknown[][]) => void;
  private pending: { row: unknown[]; done: () => void }[] = [];
  private scheduled = false;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE acks (device_id TEXT NOT NULL, seq INTEGER NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL, code TEXT, received_at INTEGER NOT NULL, UNIQUE (device_id, sha256, status))');
    this.insert = this.db.prepare('INSERT INTO acks VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    this.commit = this.db.transaction((rows: unknown[][]) => {
      for (const r of rows) this.insert.run(r);
    });
  }

  add(row: unknown[]): Promise<void> {
    return new Promise((done) => {
      this.pending.push({ row, done });
      if (this.pending.length >= 1000) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.commit(batch.map((p) => p.row));
    for (const p of batch) p.done();
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

export async function runBareFanout(o: BareOptions): Promise<BareResult> {
  const n = o.spec.n;
  const fates = fateCounts(n);
  const writer = new BareAckWriter(join(o.dataDir, 'bare.sqlite'));
  const handlers: TransportHandlers = {
    onPresence: async () => {},
    onPublishRefused: () => {},
    onMessage: async (deviceId, kind, payload) => {
      if (kind !== 'ack') return;
      const a = decodeAck(payload);
      if (!a.ok) throw new Error(`bare: a device sent an undecodable ack (${a.error.code})`);
      await writer.add([deviceId, a.value.seq, toHex(a.value.sha256), a.value.status, a.value.code ?? null, Date.now()]);
    },
  };
  const t = new SocketlessTransport(handlers, n, o.maxInFlight);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  let devices: DeviceSide | null = null;
  try {
    devices = o.deviceWorkers > 0 ? workerDevices(o.spec, nowSeconds, o.deviceWorkers) : inThreadDevices(o.spec, nowSeconds);
    t.attach(devices);
    const online = Array.from({ length: n }, (_, i) => i).filter((i) => fateOf(i) !== 'offline');
    t.connect(online, new DeviceFleetModel(o.spec).hello());
    await t.idle();

    const marks: [string, number][] = [
      ['50%', Math.ceil(n * 0.5)], ['90%', Math.ceil(n * 0.9)], ['allVerifiable', fates.ok],
      ['95%OfAnswering', Math.ceil((n - fates.offline) * 0.95)],
    ];
    const reachedAt: Record<string, number> = {};
    const t0 = performance.now();
    const cpu = process.cpuUsage();
    t.onAckCommitted = (status) => {
      if (status !== 'verified') return;
      const v = t.counts.acks.verified;
      for (const [name, at] of marks) if (v === at) reachedAt[name] = performance.now() - t0;
    };
    for (let k = 0; k < online.length; k += 1000) {
      for (const i of online.slice(k, k + 1000)) await t.publisher.publish(deviceIdOf(i), 'update', o.envelope);
      await new Promise((ok) => setImmediate(ok));
    }
    const deadline = t0 + o.maxSeconds * 1000;
    while (performance.now() < deadline && (t.counts.acks.verified < fates.ok || t.counts.acks.rejected < fates.rejecter)) {
      await new Promise((ok) => setTimeout(ok, 50));
    }
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    const acks = t.counts.acks.applied + t.counts.acks.verified + t.counts.acks.rejected;
    return {
      finished: t.counts.acks.verified >= fates.ok && t.counts.acks.rejected >= fates.rejecter,
      seconds: +(ms / 1000).toFixed(1),
      reachedSeconds: Object.fromEntries(Object.entries(reachedAt).map(([k, v]) => [k, +(v / 1000).toFixed(1)])),
      reachedMs: reachedAt,
      processCpuSeconds: +((used.user + used.system) / 1e6).toFixed(1),
      acksCommitted: acks,
      failures: t.counts.failures,
    };
  } finally {
    await t.close();
    await devices?.close();
    writer.close();
  }
}

/** gateway ÷ bare per mark both reached (the "ratio against the bare baseline measured in the same run"). */
export function bareRatios(gateway: Record<string, number>, bare: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, g] of Object.entries(gateway)) {
    const b = bare[k];
    if (b !== undefined && b > 0) out[k] = +(g / b).toFixed(2);
  }
  return out;
}
