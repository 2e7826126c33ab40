import type { EventBus } from '../events/event-bus';

/** What one device (or a fleet, summed) did that the gateway refused, since the process started (issue 17). */
export interface SecurityCounts {
  /** CONNECTs with a wrong credential (each one credential check). */
  authFailures: number;
  /** CONNECTs refused by the login throttle, before any credential check. */
  throttled: number;
  /** Connections that took over a live session ([MQTT-3.1.4-2]). */
  takeovers: number;
  /** Takeovers from another address while the older connection was alive: two holders of one credential. */
  suspiciousTakeovers: number;
  /** Publishes refused by the SPEC §6 ACL or the frame guard (E_TOPIC, E_SIZE). */
  refusedPublishes: number;
  /** Payloads that did not decode or validate (hello, ack, report). */
  malformed: number;
  /** Reports over the per-device cap (E_RATE): acknowledged, not stored. */
  reportsOverLimit: number;
  /** Devices flagged (credential on two connections, hello conflicts). */
  flags: number;
}

export interface SecurityDeviceRow extends SecurityCounts {
  deviceId: string;
  /** null: the id is not an enrolled device (a guesser's invention). */
  fleet: string | null;
  lastAt: number;
  lastFrom: string | null;
  lastWhat: string;
}

export interface SecurityFleetRow extends SecurityCounts {
  /** null: ids that are not enrolled devices. */
  fleet: string | null;
  /** Devices of this fleet with at least one refusal counted. */
  devices: number;
}

export interface SecuritySnapshot {
  since: number;
  totals: SecurityCounts;
  fleets: SecurityFleetRow[];
  /** The devices most affected: suspicious takeovers first, then by the number of refusals. */
  devices: SecurityDeviceRow[];
  /** Devices with a refusal counted (capped at maxDevices, the oldest forgotten first). */
  devicesAffected: number;
}

interface Entry extends SecurityCounts {
  fleet: Promise<string | null>;
  lastAt: number;
  lastFrom: string | null;
  lastWhat: string;
}

export const zeroCounts = (): SecurityCounts => ({
  authFailures: 0, throttled: 0, takeovers: 0, suspiciousTakeovers: 0, refusedPublishes: 0, malformed: 0, reportsOverLimit: 0, flags: 0,
});

const KEYS = Object.keys(zeroCounts()) as (keyof SecurityCounts)[];
const refusals = (c: SecurityCounts) => KEYS.reduce((n, k) => n + c[k], 0);

/**
 * The per-device and per-fleet view of the security counters (the dashboard's security page, GET /api/security):
 * fed by the committed/refused facts of the EventBus (authFailed, takeover, malformed, flagged), so nothing on the
 * device path waits for it. A device's fleet is looked up once, when it is first counted (a device's fleet does
 * not change; an id that is not enrolled is kept as null). In memory, like the throttle it reports on: since the
 * process started, per replica (docs/SECURITY.md); bounded at maxDevices, the device counted least recently
 * forgotten first.
 */
export class SecurityLedger {
  private readonly perDevice = new Map<string, Entry>();
  private readonly totals = zeroCounts();

  constructor(
    private readonly deps: { fleetOf: (deviceId: string) => Promise<string | null>; since: number },
    private readonly maxDevices = 100_000,
  ) {}

  observe(events: EventBus): () => void {
    const offs = [
      events.on('authFailed', (e) => this.count(e.deviceId, e.throttled ? 'throttled' : 'authFailures', e.at, e.from)),
      events.on('takeover', (e) => {
        this.count(e.deviceId, 'takeovers', e.at, e.from);
        if (e.suspicious) this.count(e.deviceId, 'suspiciousTakeovers', e.at, e.from);
      }),
      events.on('malformed', (e) => {
        const what = e.kind === 'publish' ? 'refusedPublishes' : e.code === 'E_RATE' ? 'reportsOverLimit' : 'malformed';
        this.count(e.deviceId, what, e.at, null, `${e.kind} ${e.code}`);
      }),
      events.on('flagged', (e) => this.count(e.deviceId, 'flags', e.at, null, `flagged: ${e.reason}`)),
    ];
    return () => offs.forEach((off) => off());
  }

  count(deviceId: string, what: keyof SecurityCounts, at: number, from: string | null, label: string = what): void {
    let e = this.perDevice.get(deviceId);
    if (e === undefined) {
      // a lookup that fails counts the device under "not enrolled" rather than losing the count
      e = { ...zeroCounts(), fleet: this.deps.fleetOf(deviceId).catch(() => null), lastAt: at, lastFrom: null, lastWhat: label };
      if (this.perDevice.size >= this.maxDevices) this.perDevice.delete(this.perDevice.keys().next().value as string);
    } else {
      this.perDevice.delete(deviceId); // re-inserted last: the Map's order is the eviction order
    }
    this.perDevice.set(deviceId, e);
    e[what] += 1;
    this.totals[what] += 1;
    e.lastAt = at;
    e.lastWhat = label;
    if (from !== null) e.lastFrom = from;
  }

  async snapshot(limit = 20): Promise<SecuritySnapshot> {
    const entries = [...this.perDevice.entries()];
    const fleets = await Promise.all(entries.map(([, e]) => e.fleet));
    const byFleet = new Map<string | null, SecurityFleetRow>();
    const rows: SecurityDeviceRow[] = entries.map(([deviceId, e], i) => {
      const fleet = fleets[i] ?? null;
      let f = byFleet.get(fleet);
      if (f === undefined) byFleet.set(fleet, (f = { fleet, devices: 0, ...zeroCounts() }));
      f.devices += 1;
      for (const k of KEYS) f[k] += e[k];
      const counts = Object.fromEntries(KEYS.map((k) => [k, e[k]])) as unknown as SecurityCounts;
      return { deviceId, fleet, ...counts, lastAt: e.lastAt, lastFrom: e.lastFrom, lastWhat: e.lastWhat };
    });
    rows.sort((a, b) => b.suspiciousTakeovers - a.suspiciousTakeovers || refusals(b) - refusals(a) || b.lastAt - a.lastAt);
    const fleetRows = [...byFleet.values()].sort((a, b) => refusals(b) - refusals(a) || String(a.fleet).localeCompare(String(b.fleet)));
    return { since: this.deps.since, totals: { ...this.totals }, fleets: fleetRows, devices: rows.slice(0, limit), devicesAffected: entries.length };
  }
}
