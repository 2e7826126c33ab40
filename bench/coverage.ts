/**
 * Coverage at a million devices (issue 5): a temp SQLite registry with 1,000,000 devices of one fleet, counters
 * built by the gateway's own CoverageStore, then
 * - reading coverage (GET /api/fleets/:fleet/coverage) and rotation readiness from the counters, against the
 *   naive answers: a GROUP BY over the devices, and a full pass with the pure `tallyReadiness`;
 * - ack ingest through IngestWriter with and without the counters in its transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// the SQLite implementation's own parts (this bench measures it; bench/storage.ts measures the contract on both)
import { openRegistryDb } from '../gateway/registry/sqlite/open';
import { CoverageStore } from '../gateway/registry/sqlite/coverage-store';
import { DeviceStore } from '../gateway/registry/sqlite/device-store';
import { SqliteIngest } from '../gateway/registry/sqlite/ingest-batch';
import { PinSetStore } from '../gateway/registry/sqlite/pinset-store';
import { asyncFacade, direct } from '../gateway/registry/sqlite/sqlite-gate';
import { IngestWriter } from '../gateway/registry/ingest-writer';
import { PinSetViews, SyncPinSetViews, pinSetView } from '../gateway/registry/pinset-views';
import { coverageRows, tallyReadiness, type DeviceCoverageInput, type PinSetView } from '../gateway/coverage/index';
import { rotationReadiness } from '../gateway/rotation-gate/rotation-readiness';
import { measure } from './harness';

const N = Number(process.env['COVERAGE_BENCH_DEVICES'] ?? 1_000_000);
const FLEET = 'bench';
const HOST = 'api.example.com';
const pin = (n: number) => 'sha256/' + Buffer.alloc(32, n).toString('base64');

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
}

/** Median rate of an async operation over 5 rounds of 200 ms. */
async function measureAsync(name: string, fn: () => Promise<unknown>): Promise<{ opsPerSec: number }> {
  const rounds: number[] = [];
  for (let r = 0; r < 6; r++) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 200) {
      await fn();
      n++;
    }
    if (r > 0) rounds.push((n * 1000) / (performance.now() - start)); // round 0 warms up
  }
  const opsPerSec = Math.round([...rounds].sort((a, b) => a - b)[2] as number);
  console.log(`${name.padEnd(48)} ${opsPerSec.toLocaleString('en-US').padStart(12)} /s`);
  return { opsPerSec };
}

/** Median of `runs` timings of a slow operation, in ms. */
function slow(name: string, runs: number, fn: () => unknown): { name: string; medianMs: number; runsMs: number[] } {
  const ms = Array.from({ length: runs }, () => timed(fn).ms);
  const sorted = [...ms].sort((a, b) => a - b);
  const medianMs = +(sorted[Math.floor(runs / 2)] as number).toFixed(2);
  console.log(`${name.padEnd(48)} ${medianMs.toFixed(2).padStart(12)} ms`);
  return { name, medianMs, runsMs: ms.map((x) => +x.toFixed(2)) };
}

export async function runCoverageBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'pingw-bench-coverage-'));
  try {
    const db = openRegistryDb(join(dir, 'registry.sqlite'));
    const c = db.$client;
    const pinsets = new PinSetStore(db);
    // four pin sets of the fleet, each rotating one pin in: seq n pins [n, n+1]
    const sets = [1, 2, 3, 4].map((seq) => {
      const json = {
        format: 1, seq, issuedAt: 1, notAfter: 4_000_000_000, target: { fleet: FLEET }, keysetVersion: 1,
        hosts: [{ name: HOST, includeSubdomains: false, pins: [pin(seq), pin(seq + 1)], enforce: true }],
      };
      const sha256 = seq.toString(16).padStart(64, '0');
      const row = pinsets.insert({ fleet: FLEET, seq, envelope: Buffer.alloc(300, seq), sha256, json, keysetVersion: 1, notAfter: 4_000_000_000, source: 'gateway', createdAt: 0, createdBy: 'bench' });
      if (row === undefined) throw new Error('bench pin set already stored');
      return row;
    });
    const [s1, s2, s3, s4] = sets as [typeof sets[number], typeof sets[number], typeof sets[number], typeof sets[number]];

    // 1M devices: 60 % verified seq 3, 25 % verified seq 2, 10 % applied seq 3 (not verified), 5 % never said hello
    const insert = c.prepare(
      `insert into devices (id, fleet, device_class, labels, credential_hash, created_at, firmware, installed_seq, installed_sha256, verified_seq, verified_sha256)
       values (?, ?, 'class-a', '[]', 'x', 0, ?, ?, ?, ?, ?)`,
    );
    const fill = c.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const id = `d${String(i).padStart(7, '0')}`;
        const r = i % 20;
        if (r < 12) insert.run(id, FLEET, '1.0', 3, s3.sha256, 3, s3.sha256);
        else if (r < 17) insert.run(id, FLEET, '1.0', 2, s2.sha256, 2, s2.sha256);
        else if (r < 19) insert.run(id, FLEET, '1.0', 3, s3.sha256, 2, s2.sha256);
        else insert.run(id, FLEET, null, 0, null, 0, null);
      }
    });
    const filled = timed(() => {
      for (let i = 0; i < N; i += 1000) fill(i, Math.min(N, i + 1000));
    });
    console.log(`inserted ${N.toLocaleString('en-US')} devices in ${(filled.ms / 1000).toFixed(1)} s`);
    const syncViews = new SyncPinSetViews((sha) => pinsets.getBySha256(sha));
    const syncCoverage = new CoverageStore(db, (sha) => syncViews.bySha256(sha)?.view ?? null);
    const views = new PinSetViews(async (sha) => pinsets.getBySha256(sha));
    const coverage = asyncFacade(syncCoverage, direct);
    const devices = asyncFacade(new DeviceStore(db), direct);
    const built = timed(() => syncCoverage.reconcilePending());
    const reconcilePerSec = Math.round((built.value * 1000) / built.ms);
    console.log(`counters built for ${built.value.toLocaleString('en-US')} devices in ${(built.ms / 1000).toFixed(1)} s (${reconcilePerSec.toLocaleString('en-US')}/s)`);

    // ---- reads: counters vs scans ----
    const now = Date.now();
    const fromCounters = measure('coverage from counters', () => syncCoverage.pinCounts(FLEET).length + syncCoverage.fleetSize(FLEET), { rounds: 5, roundMs: 200 });
    const readyCounters = await measureAsync('rotation readiness from counters (100 listed)', () =>
      rotationReadiness({ devices, coverage, views }, { fleet: FLEET, host: HOST, pin: pin(4), target: 95, limit: 100, now }),
    );
    const viewBySha = new Map<string, PinSetView>(sets.map((s) => [s.sha256, pinSetView(s)]));
    const scanCoverage = slow('coverage by GROUP BY scan', 3, () => {
      const groups = c
        .prepare<[string], { sha: string | null; n: number }>(
          `select case when verified_sha256 = installed_sha256 then verified_sha256 end as sha, count(*) as n
           from devices where fleet = ? and decommissioned = 0 group by 1`,
        )
        .all(FLEET);
      const total = groups.reduce((a, g) => a + g.n, 0);
      const counters: Record<string, Record<string, number>> = {};
      for (const g of groups) {
        const v = g.sha === null ? undefined : viewBySha.get(g.sha);
        for (const h of v?.hosts ?? []) for (const p of h.pins) ((counters[h.name] ??= {})[p] = (counters[h.name]?.[p] ?? 0) + g.n);
      }
      return coverageRows(counters, total);
    });
    const scanReadiness = slow('rotation readiness by a pass over the fleet', 3, () => {
      const rows = c
        .prepare<[string], { id: string; firmware: string | null; installed_sha256: string | null; verified_sha256: string | null }>(
          `select id, firmware, installed_sha256, verified_sha256 from devices where fleet = ? and decommissioned = 0`,
        )
        .iterate(FLEET);
      function* inputs(): Generator<DeviceCoverageInput> {
        for (const r of rows) {
          const installed = r.installed_sha256 === null ? (r.firmware === null ? undefined : null) : (viewBySha.get(r.installed_sha256) ?? undefined);
          yield { deviceId: r.id, installed, verified: r.verified_sha256 !== null && r.verified_sha256 === r.installed_sha256 };
        }
      }
      return tallyReadiness(inputs(), HOST, pin(4), now, 100);
    });
    const check = await rotationReadiness({ devices, coverage, views }, { fleet: FLEET, host: HOST, pin: pin(4), target: 95, limit: 1, now });

    // ---- ack ingest: 50,000 verified acks of seq 4 (each moves a device's counters), with and without counters ----
    const ACKS = Math.min(50_000, Math.floor(N / 4));
    const ingestRate = async (withCounters: boolean, offset: number) => {
      const batch = new SqliteIngest(db, { counters: withCounters, viewOf: (sha) => syncViews.bySha256(sha)?.view ?? null, changed: () => {} });
      const writer = new IngestWriter({ writeBatch: async (b) => batch.writeBatch(b) }, { now: () => Date.now() }, { flushMs: 5, maxRows: 1000 });
      const t = performance.now();
      const pending: Promise<boolean>[] = [];
      for (let i = 0; i < ACKS; i++) {
        const id = `d${String(offset + i * 2).padStart(7, '0')}`;
        pending.push(writer.addAck({ deviceId: id, seq: 4, sha256: s4.sha256, status: 'applied', code: null, pinsetId: s4.id }));
        pending.push(writer.addAck({ deviceId: id, seq: 4, sha256: s4.sha256, status: 'verified', code: null, pinsetId: s4.id }));
      }
      await Promise.all(pending);
      const ms = performance.now() - t;
      await writer.close();
      const perSec = Math.round((2 * ACKS * 1000) / ms);
      console.log(`${`ack ingest ${withCounters ? 'with' : 'without'} coverage counters`.padEnd(48)} ${perSec.toLocaleString('en-US').padStart(12)} acks/s`);
      return perSec;
    };
    const ingestWithout = await ingestRate(false, 1);
    const ingestWith = await ingestRate(true, 0);
    const after = await rotationReadiness({ devices, coverage, views }, { fleet: FLEET, host: HOST, pin: pin(5), target: 95, limit: 1, now });
    db.$client.close();

    const ratios = {
      coverageCountersVsScan: Math.round(scanCoverage.medianMs / (1000 / fromCounters.opsPerSec)),
      readinessCountersVsScan: Math.round(scanReadiness.medianMs / (1000 / readyCounters.opsPerSec)),
      ingestWithCountersVsWithout: +(ingestWith / ingestWithout).toFixed(3),
    };
    console.log('ratios', ratios);
    return {
      devices: N,
      setup: { insertMs: Math.round(filled.ms), counterBuildMs: Math.round(built.ms), reconcilePerSec },
      reads: {
        coverageFromCounters: { opsPerSec: fromCounters.opsPerSec, msPerRead: +(1000 / fromCounters.opsPerSec).toFixed(4) },
        readinessFromCounters: { opsPerSec: readyCounters.opsPerSec, msPerRead: +(1000 / readyCounters.opsPerSec).toFixed(4) },
        coverageGroupByScan: scanCoverage,
        readinessFullPass: scanReadiness,
      },
      readiness: { pin4: { ready: check.ready, coverage: check.coverage, atRisk: check.atRisk }, pin5AfterIngest: { coverage: after.coverage, verified: after.verified } },
      ingest: { acks: 2 * ACKS, acksPerSecWithoutCounters: ingestWithout, acksPerSecWithCounters: ingestWith },
      ratios,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
