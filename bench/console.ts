/**
 * `npm run bench -- console` (only when named): what the operator console's new reads cost on the real gateway
 * (in-process, SQLite in a temp dir) with N devices (CONSOLE_BENCH_DEVICES, default 10,000) enrolled through the
 * API in one fleet and a DRAFT rollout of that fleet. Median latency of 15 requests each:
 *  - GET /api/devices (cursor page, the store's fast path) vs the scan mode the devices page uses (withTotal, sort)
 *  - GET /api/rollouts/:id (now with targetDevices and ETAs) and GET /api/rollouts (list)
 *  - GET /api/audit filtered by actor (scans the newest-first log in chunks)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../gateway/logger';
import { startGateway } from '../gateway/start';

export async function runConsoleBench(): Promise<Record<string, unknown>> {
  const N = Number(process.env['CONSOLE_BENCH_DEVICES'] ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'pingw-console-bench-'));
  const gw = await startGateway(
    { dataDir: dir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, mqtts: { host: '127.0.0.1', port: 0 } },
    { logger: memoryLogger(), fetchServerPins: async () => { throw new Error('offline bench'); } },
  );
  const admin = readFileSync(gw.files.adminToken, 'utf8').trim();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await gw.api.request(path, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, N - i) }, (_, k) => call('POST', '/api/devices', { deviceId: `d-${String(i + k).padStart(6, '0')}`, fleet: 'bench', deviceClass: 'c' })));
    }
    const enrolS = (performance.now() - t0) / 1000;
    console.log(`enrolled ${N} devices in ${enrolS.toFixed(1)} s`);
    const pin = (c: string) => `sha256/${Buffer.alloc(32, c).toString('base64')}`;
    const set = await call('POST', '/api/pinsets', { target: { fleet: 'bench' }, hosts: [{ name: 'api.example.com', includeSubdomains: false, pins: [pin('a'), pin('b')], enforce: true }] });
    const rollout = await call('POST', '/api/rollouts', { pinsetId: set.id });
    const median = async (name: string, path: string) => {
      const times: number[] = [];
      for (let r = 0; r < 15; r++) {
        const s = performance.now();
        await call('GET', path);
        times.push(performance.now() - s);
      }
      const ms = [...times].sort((a, b) => a - b)[7] as number;
      console.log(`${name.padEnd(56)} ${ms.toFixed(2).padStart(9)} ms`);
      return { name, path, medianMs: Math.round(ms * 100) / 100 };
    };
    const results = [
      await median('devices: cursor page of 25 (fast path)', '/api/devices?fleet=bench&limit=25'),
      await median('devices: scan, total, sorted by last seen (devices page)', '/api/devices?fleet=bench&limit=25&withTotal=true&sort=lastSeen&order=desc'),
      await median('devices: scan, last page by offset', `/api/devices?fleet=bench&limit=25&withTotal=true&offset=${Math.max(0, N - 25)}`),
      await median('rollout: one, with targetDevices and ETAs', `/api/rollouts/${rollout.id}`),
      await median('rollouts: list', '/api/rollouts'),
      await median('audit: filtered by actor (rare match, scans the log)', '/api/audit?actor=nobody&limit=50'),
    ];
    return { devices: N, enrolSeconds: Math.round(enrolS * 10) / 10, results };
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
