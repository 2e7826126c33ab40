import { describe, expect, it } from 'vitest';
import { fateCounts, fateOf } from '../../bench/million/device-model';
import { runScenario } from '../../bench/million/scenario';

/**
 * The million-device bench at a tiny size (bench/million.ts): its socketless transport must drive the real path —
 * hello, rollout deliveries, the devices' own SPEC §4 checks, applied/verified/rejected acks through the gateway's
 * handlers — or the bench would measure nothing. Counts are exact: the devices' fates are fixed by their index.
 */
describe('million bench, 200 devices, SQLite', () => {
  it('fates are the issue\'s mix: 5 % offline, 1 % rejecters', () => {
    expect(fateCounts(200)).toEqual({ ok: 188, offline: 10, rejecter: 2 });
    expect(fateOf(19)).toBe('offline');
    expect(fateOf(50)).toBe('rejecter');
  });

  it('every answering device reaches VERIFIED or REJECTED, and the coverage counters agree with the registry rows', async () => {
    const fates = fateCounts(200);
    const r = (await runScenario({
      devices: 200, databaseUrl: null, deviceWorkers: 0, signatureCheck: 'full', maxInFlight: 50, maxSeconds: 50, sampleEveryMs: 200, bare: true,
    })) as any;
    expect(r.rollout.counts.failures, r.rollout.counts.firstFailure).toBe(0);
    expect(r.rollout.finished).toBe(true);
    expect(r.connect.devices).toBe(200 - fates.offline);
    expect(r.rollout.counts.hellos).toBe(200 - fates.offline);
    // every online device got the envelope once and checked it itself; the rejecters refused it (E_WOULD_BRICK)
    expect(r.rollout.counts.published.update).toBe(200 - fates.offline);
    expect(r.devicesSide.receiptChecks).toBe(200 - fates.offline);
    expect(r.devicesSide.rejected).toBe(fates.rejecter);
    expect(r.rollout.counts.acks).toEqual({ applied: fates.ok, verified: fates.ok, rejected: fates.rejecter });
    // the rollout's executions, summed over its waves, as the API shows them
    const sum = (kind: string) => (r.rollout.waves as { counts: Record<string, number> }[]).reduce((a, w) => a + (w.counts[kind] ?? 0), 0);
    expect(sum('VERIFIED')).toBe(fates.ok);
    expect(sum('REJECTED')).toBe(fates.rejecter);
    expect(sum('QUEUED')).toBe(fates.offline);
    // coverage from the counters (rotation readiness through the API) = devices whose row says verified
    expect(r.final).toEqual({ readinessVerified: fates.ok, readinessTotal: 200, coverage: 94, registryVerified: fates.ok });
    expect(r.log.firstErrors).toEqual([]);
    expect(r.log.counts['WARN device rejected a pin set']).toBe(fates.rejecter);
    // the bare baseline ran the same devices on the gateway's envelope to the end: every device that can verify
    // verified, the rejecters rejected, nothing failed; and the ratio is taken from the marks both reached
    expect(r.bare.finished).toBe(true);
    expect(r.bare.failures).toBe(0);
    expect(r.bare.acksCommitted).toBe(2 * fates.ok + fates.rejecter);
    expect(Object.keys(r.bare.reachedSeconds).sort()).toEqual(['50%', '90%', '95%OfAnswering', 'allVerifiable']);
    expect(r.ratioToBare.allVerifiable).toBeGreaterThan(0);
  });
});
