/**
 * `npm run bench -- security`: the cost of the security counters (issue 17) at their bound. The ledger behind
 * GET /api/security and the dashboard's Security page keeps 100,000 device ids: how fast it counts refusals (an
 * attack's event rate it can follow), and how long one GET /api/security answer (snapshot: per fleet, top 25) takes
 * when it is full. The EventBus listeners only count; the snapshot runs per request, never on the device path.
 */
import { loadavg } from 'node:os';
import { EventBus } from '../gateway/events/event-bus';
import { memoryLogger } from '../gateway/logger';
import { SecurityLedger } from '../gateway/security/security-ledger';
import { measure } from './harness';

export async function runSecurityBench(): Promise<Record<string, unknown>> {
  const DEVICES = 100_000;
  const FLEETS = 50;
  const ledger = new SecurityLedger({ fleetOf: async (id) => (id.startsWith('ghost-') ? null : `fleet-${Number(id.slice(2)) % FLEETS}`), since: 0 });
  const events = new EventBus(memoryLogger());
  ledger.observe(events);
  let n = 0;
  // a guessing attack over every id (wrong credential, then throttled), as the broker reports it; 1 in 10 ids is
  // not enrolled
  const guess = () => {
    n += 1;
    const id = n % 10 === 0 ? `ghost-${n % DEVICES}` : `d-${n % DEVICES}`;
    events.emit('authFailed', { deviceId: id, from: '203.0.113.7', throttled: n % 3 !== 0, at: n });
  };
  const fillStart = performance.now();
  for (let i = 0; i < DEVICES; i++) guess(); // first count of each id: its fleet is looked up
  const fillMs = performance.now() - fillStart;
  console.log(`first refusal of ${DEVICES.toLocaleString('en-US')} ids counted in ${fillMs.toFixed(0)} ms`);
  const count = measure('refusals counted (ledger full, 100,000 ids)', guess);
  const snapshots: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const s = await ledger.snapshot(25);
    const used = process.cpuUsage(c);
    snapshots.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
    if (s.devicesAffected !== DEVICES) throw new Error(`ledger holds ${s.devicesAffected} ids, expected ${DEVICES}`);
  }
  const med = (xs: number[]) => Math.round(([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number) * 10) / 10;
  const median = med(snapshots);
  const cpuMedian = med(cpu);
  console.log(`GET /api/security snapshot at ${DEVICES.toLocaleString('en-US')} ids: median ${median} ms wall, ${cpuMedian} ms CPU (wall: ${snapshots.map((x) => x.toFixed(0)).join(', ')})`);
  return {
    ledgerDevices: DEVICES,
    fleets: FLEETS,
    firstCountOfEachIdMs: Math.round(fillMs),
    eventsCountedPerSec: count.opsPerSec,
    snapshotMedianMs: median,
    snapshotCpuMedianMs: cpuMedian,
    loadAverage1m: loadavg()[0],
    snapshotMs: snapshots.map((x) => Math.round(x * 10) / 10),
  };
}
