import type { DeviceRepo } from '../registry/repositories';
import type { DeviceInfo } from '../rollout-engine/index';

interface Entry {
  byId: Map<string, DeviceInfo>;
  list: DeviceInfo[] | null;
}

/**
 * The devices of the fleets that have an active rollout, as the engine sees them (DeviceInfo: class, labels,
 * online), kept in memory so a tick does not read the fleet from storage. Loaded once per fleet, then kept up to
 * date from gateway events (online / offline / enrolled). Decommissioned devices are not in it.
 */
export class FleetDirectory {
  private readonly fleets = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
  /** When each device's current connection started (the 'online' event). */
  private readonly connected = new Map<string, number>();

  constructor(private readonly store: Pick<DeviceRepo, 'directory'>) {}

  private async entry(fleet: string): Promise<Entry> {
    const e = this.fleets.get(fleet);
    if (e !== undefined) return e;
    let load = this.loading.get(fleet);
    if (load === undefined) {
      load = (async () => {
        const byId = new Map<string, DeviceInfo>();
        for (const d of await this.store.directory(fleet)) byId.set(d.deviceId, d);
        const entry: Entry = { byId, list: null };
        this.fleets.set(fleet, entry);
        return entry;
      })().finally(() => this.loading.delete(fleet));
      this.loading.set(fleet, load);
    }
    return load;
  }

  /** The fleet's devices (cached array; rebuilt after a change). */
  async devices(fleet: string): Promise<readonly DeviceInfo[]> {
    const e = await this.entry(fleet);
    e.list ??= [...e.byId.values()];
    return e.list;
  }

  async get(fleet: string, deviceId: string): Promise<DeviceInfo | undefined> {
    return (await this.entry(fleet)).byId.get(deviceId);
  }

  /** Fleet of a device among the loaded fleets (events carry only the device id). */
  fleetOf(deviceId: string): string | undefined {
    for (const [fleet, e] of this.fleets) if (e.byId.has(deviceId)) return fleet;
    return undefined;
  }

  /** Start of the device's current connection, if it is connected. */
  connectedAt(deviceId: string): number | undefined {
    return this.connected.get(deviceId);
  }

  /** Online/offline from the broker (at = event time); returns the device's fleet when it is loaded. */
  connection(deviceId: string, online: boolean, at: number): string | undefined {
    if (online) this.connected.set(deviceId, at);
    else this.connected.delete(deviceId);
    return this.setOnline(deviceId, online);
  }

  setOnline(deviceId: string, online: boolean): string | undefined {
    for (const [fleet, e] of this.fleets) {
      const d = e.byId.get(deviceId);
      if (d === undefined) continue;
      if (d.online !== online) {
        e.byId.set(deviceId, { ...d, online });
        e.list = null;
      }
      return fleet;
    }
    return undefined;
  }

  add(fleet: string, device: DeviceInfo): void {
    const e = this.fleets.get(fleet);
    if (e === undefined) return; // not loaded: the first use reads it from storage
    e.byId.set(device.deviceId, device);
    e.list = null;
  }

  /** A decommissioned device leaves its fleet. */
  remove(fleet: string, deviceId: string): void {
    const e = this.fleets.get(fleet);
    if (e === undefined || !e.byId.delete(deviceId)) return;
    e.list = null;
  }

  /** Forget fleets no active rollout needs. */
  retain(fleets: ReadonlySet<string>): void {
    for (const f of [...this.fleets.keys()]) if (!fleets.has(f)) this.fleets.delete(f);
  }
}
