import type { DeviceIdentity } from '../device-types';
import { NO_FAULTS } from '../faults';
import { startFleet, type FleetConfig, type FleetHandle, type FleetTotals } from '../fleet-runner';

/**
 * A group of simulated devices run by the fleet runner (worker processes), that the drill can power off and on:
 * power-off = orderly shutdown of every device (DISCONNECT) and of the worker processes; power-on = new workers
 * that boot every device from its flash in `dataDir` (the installed pin set survives), then connect.
 */
export interface DeviceGroupOptions {
  readonly name: string;
  readonly identities: readonly DeviceIdentity[];
  readonly workers: number;
  readonly broker: { readonly hostname: string; readonly address: string; readonly port: number };
  readonly keyset: { readonly version: number; readonly publicKeys: readonly string[] };
  readonly factoryEnvelope: string;
  readonly dataDir: string;
  readonly connectRate: number;
  /** Reconnect back-off of the devices (firmware would go to minutes; a drill keeps it short). */
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

export class DeviceGroup {
  private fleet: FleetHandle | undefined;
  /** Errors of every power cycle so far. */
  readonly errors: string[] = [];
  /** PUBACKed acks of the power cycles that ended (`deviceId|seq|status` → PUBACKs). */
  private readonly ackedBefore = new Map<string, number>();

  constructor(readonly o: DeviceGroupOptions) {}

  get size(): number {
    return this.o.identities.length;
  }

  get ids(): string[] {
    return this.o.identities.map((d) => d.deviceId);
  }

  get poweredOn(): boolean {
    return this.fleet !== undefined;
  }

  /** Boots every device of the group (from flash, or the factory state on the first boot). */
  async powerOn(): Promise<void> {
    if (this.fleet !== undefined) throw new Error(`${this.o.name} is already on`);
    const o = this.o;
    const cfg: FleetConfig = {
      identities: o.identities, workers: o.workers, connectRate: o.connectRate, broker: o.broker, keyset: o.keyset,
      factoryEnvelope: o.factoryEnvelope, hostMap: [], dataDir: o.dataDir, faults: NO_FAULTS, progressEveryMs: 250,
      fsync: true, keepaliveSec: 60, reconnectMinMs: o.reconnectMinMs, reconnectMaxMs: o.reconnectMaxMs,
    };
    this.fleet = startFleet(cfg);
    await this.fleet.ready;
  }

  /** Orderly shutdown of the devices and their worker processes; the counts as they were just before. */
  async powerOff(): Promise<FleetTotals | undefined> {
    const f = this.fleet;
    if (f === undefined) return undefined;
    this.fleet = undefined;
    const totals = await f.stop();
    this.errors.push(...f.errors);
    for (const [k, n] of f.acked) this.ackedBefore.set(k, (this.ackedBefore.get(k) ?? 0) + n);
    return totals;
  }

  /** The devices' record of every ack they got a PUBACK for, over all power cycles: `deviceId|seq|status` → PUBACKs. */
  acked(): Map<string, number> {
    const all = new Map(this.ackedBefore);
    for (const [k, n] of this.fleet?.acked ?? []) all.set(k, (all.get(k) ?? 0) + n);
    return all;
  }

  /** Counts of the current power cycle (undefined when off). Counters (applied, verified…) restart at each power-on. */
  totals(): FleetTotals | undefined {
    return this.fleet?.totals();
  }

  /** Devices online now (subscribed, session usable). */
  online(): number {
    return this.fleet?.totals().conn.online ?? 0;
  }
}
