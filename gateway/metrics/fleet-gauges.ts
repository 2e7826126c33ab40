import { Gauge, type Registry } from 'prom-client';
import type { CoverageRepo, DeviceRepo, RolloutRepo } from '../registry/repositories';

const UNFINISHED = new Set(['DRAFT', 'RUNNING', 'PAUSED']);

/**
 * Gauges read from the registry at scrape time (no second copy of the state to drift): coverage per fleet, host
 * and pin (SPEC §8, from the same counters as the API), devices online/offline, rollout states and per-state
 * execution counts. Rollouts: every unfinished one and the newest of each fleet, so finished rollouts do not
 * grow the series without bound.
 */
export function registerFleetGauges(registry: Registry, deps: { devices: DeviceRepo; coverage: CoverageRepo; rollouts: RolloutRepo }): void {
  const registers = [registry];
  // one GROUP BY per scrape, not one per gauge: the gauges of a scrape are collected within milliseconds
  let cached: { at: number; value: Promise<{ fleet: string; devices: number; online: number }[]> } | null = null;
  const fleets = () => {
    const now = performance.now();
    if (cached === null || now - cached.at > 250) cached = { at: now, value: Promise.resolve(deps.devices.fleets()) };
    return cached.value;
  };
  new Gauge({
    name: 'pingw_devices',
    help: 'Enrolled devices (decommissioned excluded) by fleet and connection state',
    labelNames: ['fleet', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const f of await fleets()) {
        this.set({ fleet: f.fleet, state: 'online' }, f.online);
        this.set({ fleet: f.fleet, state: 'offline' }, f.devices - f.online);
      }
    },
  });
  new Gauge({
    name: 'pingw_coverage_ratio',
    help: 'SPEC §8 coverage: devices that verified a set pinning this pin / fleet size (offline included), 0..1',
    labelNames: ['fleet', 'host', 'pin'],
    registers,
    async collect() {
      this.reset();
      for (const f of await fleets()) {
        const total = await deps.coverage.fleetSize(f.fleet);
        for (const r of await deps.coverage.pinCounts(f.fleet)) {
          this.set({ fleet: f.fleet, host: r.host, pin: r.pin }, total === 0 ? 0 : r.count / total);
        }
      }
    },
  });
  new Gauge({
    name: 'pingw_coverage_verified_devices',
    help: 'Devices of the fleet that verified a set pinning this pin (the numerator of pingw_coverage_ratio)',
    labelNames: ['fleet', 'host', 'pin'],
    registers,
    async collect() {
      this.reset();
      for (const f of await fleets()) {
        for (const r of await deps.coverage.pinCounts(f.fleet)) this.set({ fleet: f.fleet, host: r.host, pin: r.pin }, r.count);
      }
    },
  });
  const shown = async () => {
    const all = await deps.rollouts.list();
    const newest = new Set<string>();
    return all.filter((r) => {
      const first = !newest.has(r.fleet);
      newest.add(r.fleet);
      return first || UNFINISHED.has(r.state);
    });
  };
  new Gauge({
    name: 'pingw_rollout_state',
    help: 'Rollout state (1 for the current state): every unfinished rollout and the newest of each fleet',
    labelNames: ['rollout', 'fleet', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const r of await shown()) this.set({ rollout: r.id, fleet: r.fleet, state: r.state }, 1);
    },
  });
  new Gauge({
    name: 'pingw_rollout_executions',
    help: 'Executions of a rollout by state (SPEC §7 execution states)',
    labelNames: ['rollout', 'fleet', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const r of await shown()) {
        const s = await deps.rollouts.summary(r.id);
        for (const [kind, n] of Object.entries(s.byKind)) this.set({ rollout: r.id, fleet: r.fleet, state: kind }, n);
      }
    },
  });
}
