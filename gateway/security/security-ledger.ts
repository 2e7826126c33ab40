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
  deviceId: string;
  /** undefined while the fleet lookup runs: the entry's counts join its fleet's row when it resolves. */
  fleet: string | null | undefined;
  /** Sum of the counts (the ranking key). */
  total: number;
  lastAt: number;
  lastFrom: string | null;
  lastWhat: string;
}

export const zeroCounts = (): SecurityCounts => ({
  authFailures: 0, throttled: 0, takeovers: 0, suspiciousTakeovers: 0, refusedPublishes: 0, malformed: 0, reportsOverLimit: 0, flags: 0,
});

const KEYS = Object.keys(zeroCounts()) as (keyof SecurityCounts)[];
const refusals = (c: SecurityCounts) => KEYS.reduce((n, k) => n + c[k], 0);
/** Suspicious takeovers first, then by the number of refusals, then the most recent. */
const before = (a: Entry, b: Entry) => b.suspiciousTakeovers - a.suspiciousTakeovers || b.total - a.total || b.lastAt - a.lastAt;

/**
 * The per-device and per-fleet view of the security counters (the dashboard's security page, GET /api/security):
 * fed by the refused facts of the EventBus (authFailed, takeover, malformed, flagged), so nothing on the device path
 * waits for it. A device's fleet is looked up once, when it is first counted (a device's fleet does not change; an
 * id that is not enrolled is kept as null). Per-fleet rows are kept up to date as counts arrive, so an answer costs
 * one pass for the top devices, never a regrouping (bench/results/security.json). In memory, like the throttle it
 * reports on: since the process started, per replica (docs/SECURITY.md); bounded at maxDevices, the device counted
 * least recently forgotten first (its counts leave its fleet's row, the totals keep them).
 */
export class SecurityLedger {
  private readonly perDevice = new Map<string, Entry>();
  private readonly byFleet = new Map<string | null, SecurityFleetRow>();
  private readonly totals = zeroCounts();
  private readonly pending = new Set<Promise<void>>();

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
      if (this.perDevice.size >= this.maxDevices) this.evictOldest();
      const entry: Entry = { ...zeroCounts(), deviceId, fleet: undefined, total: 0, lastAt: at, lastFrom: null, lastWhat: label };
      e = entry;
      // a lookup that fails counts the device under "not enrolled" rather than losing the count
      const lookup = this.deps
        .fleetOf(deviceId)
        .catch(() => null)
        .then((fleet) => {
          this.pending.delete(lookup);
          if (this.perDevice.get(deviceId) !== entry) return; // forgotten meanwhile
          entry.fleet = fleet;
          const row = this.fleetRow(fleet);
          row.devices += 1;
          for (const k of KEYS) row[k] += entry[k];
        });
      this.pending.add(lookup);
    } else {
      this.perDevice.delete(deviceId); // re-inserted last: the Map's order is the eviction order
    }
    this.perDevice.set(deviceId, e);
    e[what] += 1;
    e.total += 1;
    this.totals[what] += 1;
    if (e.fleet !== undefined) this.fleetRow(e.fleet)[what] += 1;
    e.lastAt = at;
    e.lastWhat = label;
    if (from !== null) e.lastFrom = from;
  }

  async snapshot(limit = 20): Promise<SecuritySnapshot> {
    if (this.pending.size > 0) await Promise.all([...this.pending]); // counts whose fleet is being looked up join their row first
    // one pass keeping the `limit` first, no sort and no row built for the others. Newest first (the Map is in
    // order of last count): a device that ties with one already kept is older, so it costs one comparison.
    const all = [...this.perDevice.values()];
    const top: Entry[] = [];
    for (let j = all.length - 1; j >= 0; j--) {
      const e = all[j]!;
      if (top.length >= limit && before(e, top[top.length - 1]!) >= 0) continue;
      let i = top.length;
      while (i > 0 && before(e, top[i - 1]!) < 0) i -= 1;
      top.splice(i, 0, e);
      if (top.length > limit) top.pop();
    }
    const fleets = [...this.byFleet.values()]
      .filter((f) => f.devices > 0)
      .map((f) => ({ ...f }))
      .sort((a, b) => refusals(b) - refusals(a) || String(a.fleet).localeCompare(String(b.fleet)));
    return { since: this.deps.since, totals: { ...this.totals }, fleets, devices: top.map((e) => this.row(e)), devicesAffected: this.perDevice.size };
  }

  private row(e: Entry): SecurityDeviceRow {
    const counts = Object.fromEntries(KEYS.map((k) => [k, e[k]])) as unknown as SecurityCounts;
    return { deviceId: e.deviceId, fleet: e.fleet ?? null, ...counts, lastAt: e.lastAt, lastFrom: e.lastFrom, lastWhat: e.lastWhat };
  }

  private fleetRow(fleet: string | null): SecurityFleetRow {
    let row = this.byFleet.get(fleet);
    if (row === undefined) this.byFleet.set(fleet, (row = { fleet, devices: 0, ...zeroCounts() }));
    return row;
  }

  private evictOldest(): void {
    const first = this.perDevice.entries().next();
    if (first.done === true) return;
    const e = first.value[1];
    this.perDevice.delete(first.value[0]);
    if (e.fleet === undefined) return;
    const row = this.fleetRow(e.fleet);
    row.devices -= 1;
    for (const k of KEYS) row[k] -= e[k];
  }
}
