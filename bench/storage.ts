/**
 * `npm run bench -- storage` (issue 12): the storage contract measured on both implementations in one run —
 * SQLite (a temp file) and PostgreSQL 15 (a throw-away cluster started as in the tests, test/support/postgres.ts):
 * - ack ingest with coverage counters through the gateway's own IngestWriter (group commit, 5 ms / 1,000 rows),
 *   acks/s: every ack is new and moves its device's installed/verified set and the counters;
 * - the bare baseline in the same run (./storage-bare.ts): the same rows written with the bare driver, no gateway
 *   logic; gateway and bare runs alternate on fresh device slices, so load on the machine hits both alike and
 *   `ratio` = gateway / bare (best run of each) is comparable between runs;
 * - coverage and rotation readiness latency at 1,000,000 devices (median of many reads, ms).
 * Only the contract is used (registry/), so both dialects answer the same calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../test/support/postgres';
import { bareSqlite, barePg, stopwatch, type BareSlice, type Timing } from './storage-bare';
import type { Registry } from '../gateway/registry/registry';
import { IngestWriter } from '../gateway/registry/ingest-writer';
import { openRegistry } from '../gateway/registry/open-registry';
import { PinSetViews } from '../gateway/registry/pinset-views';
import type { PinSetRow } from '../gateway/registry/rows';
import { rotationReadiness } from '../gateway/rotation-gate/rotation-readiness';

const N = Number(process.env['STORAGE_BENCH_DEVICES'] ?? 1_000_000);
/** Devices per ingest run: 4 runs (gateway, bare, gateway, bare) on disjoint slices of the fleet. */
const ACK_DEVICES = Math.min(50_000, Math.floor(N / 8));
const BATCH_ROWS = 1000;
const FLEET = 'bench';
const HOST = 'api.example.com';
const pin = (n: number) => 'sha256/' + Buffer.alloc(32, n).toString('base64');
const clock = { now: () => Date.now() };

async function median(name: string, runs: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await fn(); // warm-up (caches, plans)
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  const m = +([...ms].sort((a, b) => a - b)[Math.floor(runs / 2)] as number).toFixed(3);
  console.log(`  ${name.padEnd(52)} ${m.toFixed(3).padStart(10)} ms`);
  return m;
}

async function storeSets(r: Registry): Promise<PinSetRow[]> {
  const sets: PinSetRow[] = [];
  for (const seq of [1, 2]) {
    const json = {
      format: 1, seq, issuedAt: 1, notAfter: 4_000_000_000, target: { fleet: FLEET }, keysetVersion: 1,
      hosts: [{ name: HOST, includeSubdomains: false, pins: [pin(seq), pin(seq + 1)], enforce: true }],
    };
    const row = await r.pinsets.insert({
      fleet: FLEET, seq, envelope: Buffer.alloc(300, seq), sha256: seq.toString(16).padStart(64, '0'), json, keysetVersion: 1,
      notAfter: 4_000_000_000, source: 'gateway', createdAt: 0, createdBy: 'bench',
    });
    if (row === undefined) throw new Error('bench pin set already stored');
    sets.push(row);
  }
  return sets;
}

type Bare = (slice: BareSlice) => Promise<Timing>;

async function benchOne(name: string, r: Registry, bare: Bare, vacuum?: () => Promise<void>): Promise<Record<string, unknown>> {
  console.log(`\n${name}: ${N.toLocaleString('en-US')} devices`);
  const [s1, s2] = (await storeSets(r)) as [PinSetRow, PinSetRow];
  let t = performance.now();
  for (let i = 0; i < N; i += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, N - i) }, (_, k) => ({
      id: `d${String(i + k).padStart(7, '0')}`, fleet: FLEET, deviceClass: 'class-a', labels: [], credentialHash: 'x', createdAt: 0,
    }));
    await r.devices.insertMany(chunk);
  }
  const enrolMs = performance.now() - t;
  console.log(`  enrolled with counters in ${(enrolMs / 1000).toFixed(1)} s (${Math.round((N * 1000) / enrolMs).toLocaleString('en-US')}/s)`);

  const deviceId = (i: number) => `d${String(i).padStart(7, '0')}`;
  // a slice of devices verifies a set (applied + verified = 2 acks each), all through the ingest writer
  const ingestRate = async (set: PinSetRow, from: number): Promise<Timing> => {
    const writer = new IngestWriter(r.ingest, clock, { flushMs: 5, maxRows: BATCH_ROWS });
    const done = stopwatch();
    const pending: Promise<boolean>[] = [];
    for (let i = from; i < from + ACK_DEVICES; i++) {
      pending.push(writer.addAck({ deviceId: deviceId(i), seq: set.seq, sha256: set.sha256, status: 'applied', code: null, pinsetId: set.id }));
      pending.push(writer.addAck({ deviceId: deviceId(i), seq: set.seq, sha256: set.sha256, status: 'verified', code: null, pinsetId: set.id }));
    }
    const news = await Promise.all(pending);
    const time = done();
    await writer.close();
    if (news.some((x) => !x)) throw new Error('an ack of the bench was not new');
    return time;
  };
  const bareRate = (set: PinSetRow, from: number): Promise<Timing> => {
    const h = (set.json as { hosts: { name: string; pins: string[] }[] }).hosts[0] as { name: string; pins: string[] };
    return bare({
      deviceIds: Array.from({ length: ACK_DEVICES }, (_, k) => deviceId(from + k)),
      fleet: FLEET, pinsetId: set.id, seq: set.seq, sha256: set.sha256, host: h.name, pins: h.pins, batchRows: BATCH_ROWS,
    });
  };
  const runs = { gateway: [] as Timing[], bare: [] as Timing[] };
  runs.gateway.push(await ingestRate(s1, 0));
  runs.bare.push(await bareRate(s1, ACK_DEVICES));
  runs.gateway.push(await ingestRate(s2, 2 * ACK_DEVICES));
  runs.bare.push(await bareRate(s2, 3 * ACK_DEVICES));
  const perSec = (t: Timing) => Math.round((2 * ACK_DEVICES * 1000) / t.ms);
  const perCpuSec = (t: Timing) => Math.round((2 * ACK_DEVICES * 1000) / t.cpuMs);
  const acksPerSec = Math.max(...runs.gateway.map(perSec));
  const bareAcksPerSec = Math.max(...runs.bare.map(perSec));
  const ratio = +(acksPerSec / bareAcksPerSec).toFixed(2);
  const f = (n: number) => n.toLocaleString('en-US');
  const show = (ts: Timing[]) => `${ts.map((t) => f(perSec(t))).join(' / ')} acks/s (${ts.map((t) => f(perCpuSec(t))).join(' / ')} per CPU-second of this process)`;
  console.log(`  ack ingest with coverage counters, runs of ${f(2 * ACK_DEVICES)}: ratio gateway / bare ${ratio}`);
  console.log(`    gateway ${show(runs.gateway)}`);
  console.log(`    bare    ${show(runs.bare)}`);

  const views = new PinSetViews((sha) => r.pinsets.getBySha256(sha));
  const now = Date.now();
  const coverageMs = await median('coverage from counters', 200, async () => (await r.coverage.pinCounts(FLEET)).length + (await r.coverage.fleetSize(FLEET)));
  const readinessMs = await median('rotation readiness (100 at-risk devices listed)', 200, () =>
    rotationReadiness({ devices: r.devices, coverage: r.coverage, views }, { fleet: FLEET, host: HOST, pin: pin(3), target: 95, limit: 100, now }),
  );
  let afterVacuum: { coverageMs: number; readinessMs: number } | null = null;
  if (vacuum !== undefined) {
    // right after the burst the index ranges hold the moved devices' dead entries until (auto)vacuum clears them
    await vacuum();
    afterVacuum = {
      coverageMs: await median('coverage from counters, after VACUUM', 200, async () => (await r.coverage.pinCounts(FLEET)).length + (await r.coverage.fleetSize(FLEET))),
      readinessMs: await median('rotation readiness, after VACUUM', 200, () =>
        rotationReadiness({ devices: r.devices, coverage: r.coverage, views }, { fleet: FLEET, host: HOST, pin: pin(3), target: 95, limit: 100, now }),
      ),
    };
  }
  const check = await rotationReadiness({ devices: r.devices, coverage: r.coverage, views }, { fleet: FLEET, host: HOST, pin: pin(2), target: 95, limit: 1, now });
  console.log(`  check: pin 2 verified by ${check.verified.toLocaleString('en-US')} of ${check.total.toLocaleString('en-US')} (${check.coverage} %)`);
  // both sets pin pin 2: every device of the four runs counts, gateway-written and bare-written alike
  if (check.verified !== 4 * ACK_DEVICES || check.total !== N) throw new Error(`counters after the ingest runs: ${JSON.stringify(check)}`);
  t = performance.now();
  return {
    devices: N,
    enrolPerSec: Math.round((N * 1000) / enrolMs),
    ingest: {
      acks: 2 * ACK_DEVICES,
      acksPerSecWithCounters: acksPerSec,
      runs: runs.gateway.map(perSec),
      perCpuSecond: runs.gateway.map(perCpuSec),
      bare: { acksPerSec: bareAcksPerSec, runs: runs.bare.map(perSec), perCpuSecond: runs.bare.map(perCpuSec) },
      ratio,
    },
    reads: { coverageMs, readinessMs, ...(afterVacuum === null ? {} : { afterVacuum }) },
    check: { verified: check.verified, total: check.total, coverage: check.coverage },
  };
}

export async function runStorageBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'pingw-bench-storage-'));
  // the machine's 1-minute load average at the start and the end: throughput on a shared box depends on it
  const results: Record<string, unknown> = { loadAverage: { start: +(loadavg()[0] ?? 0).toFixed(2) } };
  try {
    const only = process.env['STORAGE_BENCH_ONLY']; // 'sqlite' or 'postgres': one side only (profiling)
    if (only !== 'postgres') {
      const sqlite = await openRegistry({ file: join(dir, 'registry.sqlite'), url: null, readUrl: null, poolSize: 1 }, clock);
      try {
        results['sqlite'] = await benchOne('SQLite (file, WAL)', sqlite, async (slice) => bareSqlite(sqlite.location, slice));
      } finally {
        await sqlite.close();
      }
    }
    if (only !== 'sqlite') {
      // a server sized for a million devices (the tests' 32 MB of shared buffers would hold a tenth of the devices
      // table and its indexes): the default 128 MB doubled, still far below the 25 % of RAM production guides give it
      const server = await startPostgres({ settings: { shared_buffers: '256MB' } });
      try {
        const database = await server.createDatabase();
        const url = server.url(database);
        const pg = await openRegistry({ file: '', url, readUrl: null, poolSize: 10 }, clock);
        try {
          results['postgres'] = await benchOne('PostgreSQL 15 (loopback, fsync off as in the tests, shared_buffers 256 MB)', pg, (slice) => barePg(url, slice), () => server.vacuumAnalyze(database));
        } finally {
          await pg.close();
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  results['loadAverage'] = { ...(results['loadAverage'] as object), end: +(loadavg()[0] ?? 0).toFixed(2) };
  return results;
}
