/**
 * Operations (issue 18): what the new parts cost on the hot paths.
 * - Maintenance windows: `insideWindow` runs in every engine step of a scheduled rollout; `nextWindowOpening`
 *   in the gate's "hold" reason (worst case: just after a weekly window closed).
 * - GET /metrics over HTTP on a real gateway with OPS_BENCH_DEVICES devices in OPS_BENCH_FLEETS fleets and
 *   a rollout per fleet (the gauges read the registry at scrape time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryDb } from '../gateway/registry/sqlite/open';
import { memoryLogger } from '../gateway/logger';
import { insideWindow, nextWindowOpening } from '../gateway/rollout-engine/maintenance-window';
import { startGateway } from '../gateway/start';
import { measure } from './harness';

const DEVICES = Number(process.env['OPS_BENCH_DEVICES'] ?? 10_000);
const FLEETS = Number(process.env['OPS_BENCH_FLEETS'] ?? 10);
const WINDOWS = { timeZone: 'Europe/Berlin', weekly: ['Tue,Thu 02:00-05:00', 'Sat 22:00-02:00'] };

export async function runOpsBench(): Promise<Record<string, unknown>> {
  const inside = measure('insideWindow (Europe/Berlin, 2 ranges)', () => insideWindow(Date.UTC(2026, 11, 2, 9), WINDOWS));
  const next = measure('nextWindowOpening, worst case (just closed)', () => nextWindowOpening(Date.UTC(2026, 11, 1, 4, 1), WINDOWS));

  const dir = mkdtempSync(join(tmpdir(), 'pingw-opsbench-'));
  try {
    const db = openRegistryDb(join(dir, 'registry.sqlite'));
    const insert = db.$client.prepare(
      `insert into devices (id, fleet, device_class, labels, credential_hash, created_at) values (?, ?, 'c', '[]', 'x', 0)`,
    );
    db.$client.transaction(() => {
      for (let i = 0; i < DEVICES; i++) insert.run(`d-${i}`, `fleet-${i % FLEETS}`);
    })();
    db.$client.close();
    const gw = await startGateway(
      { dataDir: dir, http: { host: '127.0.0.1', port: 0 }, mqtt: null, mqtts: { host: '127.0.0.1', port: 0 } },
      { logger: memoryLogger(), fetchServerPins: async () => { throw new Error('offline'); } },
    );
    const admin = (await import('node:fs')).readFileSync(gw.files.adminToken, 'utf8').trim();
    const call = (path: string, body: unknown) =>
      gw.api.request(path, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let f = 0; f < FLEETS; f++) {
      const pins = [1, 2].map((n) => 'sha256/' + Buffer.alloc(32, n + f).toString('base64'));
      const p = (await (await call('/api/pinsets', { target: { fleet: `fleet-${f}` }, hosts: [{ name: 'api.example.com', includeSubdomains: false, pins, enforce: false }] })).json()) as { id: number };
      const r = (await (await call('/api/rollouts', { pinsetId: p.id })).json()) as { id: string };
      await call(`/api/rollouts/${r.id}/start`, {});
    }
    const url = gw.metrics?.url as string;
    const ms: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 25; i++) {
      const t = performance.now();
      bytes = (await (await fetch(url)).text()).length;
      ms.push(performance.now() - t);
    }
    await gw.stop();
    const sorted = [...ms].sort((a, b) => a - b);
    const scrape = { devices: DEVICES, fleets: FLEETS, rollouts: FLEETS, medianMs: +(sorted[12] as number).toFixed(2), p90Ms: +(sorted[22] as number).toFixed(2), bytes };
    console.log(`GET /metrics (${DEVICES} devices, ${FLEETS} fleets, ${FLEETS} running rollouts)`.padEnd(48), `median ${scrape.medianMs} ms, p90 ${scrape.p90Ms} ms, ${bytes} bytes`);
    return { window: { inside, next }, scrape };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
