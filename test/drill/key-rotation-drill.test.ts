import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_DRILL, pickOffline } from '../../device-sim/drill/drill-setup';
import { KeyRotationDrill, type DrillResult } from '../../device-sim/drill/scenario';
import { Timeline } from '../../device-sim/drill/timeline';

/**
 * The key-rotation drill end to end (`npm run drill`, docs/drill.md): a real gateway process (tsx gateway/main.ts),
 * 1,000 simulated devices in fleet-runner worker processes, HTTP to the API, MQTT/TLS with pinned keys, SIGHUP to
 * switch the broker key. Asserts the numbers the drill prints. Every wait inside the drill polls a condition with a
 * deadline; nothing here is timed.
 */
const DEVICES = Number(process.env['DRILL_DEVICES'] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'pin-drill-test-'));
const lines: string[] = [];
const drill = new KeyRotationDrill(
  { ...DEFAULT_DRILL, root: resolve(import.meta.dirname, '../..'), dataDir: dir, devices: DEVICES },
  new Timeline((l) => {
    lines.push(l);
    process.stdout.write(`${l}\n`);
  }),
);

afterAll(async () => {
  await drill.cleanup(); // devices (worker processes) and the gateway process, by pid, also after a failure
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('key-rotation drill (1,000 devices, 5 % offline)', () => {
  let r: DrillResult;
  const ids = Array.from({ length: DEVICES }, (_, i) => `drill-${String(i).padStart(5, '0')}`);
  const offline = pickOffline(ids, 5);

  it('runs the scenario to the end', async () => {
    r = await drill.run();
    await drill.timeline.writeJson(join(dir, 'drill.json'), { result: r });
    expect(drill.workerErrors()).toEqual([]);
  }, 600_000);

  it('chose every 20th device as offline (drill-00019, drill-00039, …)', () => {
    expect(offline).toHaveLength(DEVICES / 20);
    expect(offline[0]).toBe('drill-00019');
    expect(r.offlineIds).toEqual(offline);
  });

  it('step 1: every device verified the factory set {K1, B}', () => {
    expect(r.initialK1Coverage).toBe(100);
  });

  it('step 2: the rollout ran through its waves; waves held by offline devices were advanced by the operator', () => {
    expect(r.readinessBeforeRollout).toMatchObject({ ready: false, coverage: 0, atRisk: DEVICES });
    expect(drill.timeline.all('wave-started')).toHaveLength(5);
    for (const a of r.rollout.advanced) {
      expect(a.queued).toBeGreaterThan(0);
      expect(a.verified + a.queued).toBe(a.enrolled);
      expect(a.verified * 100).toBeLessThan(95 * a.enrolled);
    }
    expect(drill.timeline.all('operator-advance')).toHaveLength(r.rollout.advanced.length);
    // readiness was NOT READY after the early waves
    expect(drill.timeline.all('readiness').some((e) => e.data['ready'] === false && (e.data['verified'] as number) > 0)).toBe(true);
    expect(lines.some((l) => /^t\+\d+\.\ds\s+rollout wave 2\/5 "10%" started \(\d+ devices\)$/.test(l))).toBe(true);
  });

  it('step 3: READY at exactly 95 %, and the at-risk list is exactly the offline devices', () => {
    expect(r.readinessAfterRollout).toMatchObject({
      ready: true, coverage: 95, verified: DEVICES - offline.length, total: DEVICES, target: 95, atRisk: offline.length,
    });
    expect(r.readinessAfterRollout.atRiskBy['pin-absent']).toBe(offline.length);
    expect(r.readinessAfterRollout.atRiskIds).toEqual(offline);
    expect(r.rotation.forced).toBe(false);
  });

  it('step 4: under K2 every verified device reconnects and exactly the named devices refuse the broker', () => {
    expect(r.k2.sessionsKept).toBe(DEVICES - offline.length); // SIGHUP dropped no established session
    expect(r.k2.reconnected).toBe(DEVICES - offline.length);
    expect(r.k2.refusedIds).toEqual(offline);
    expect(r.k2.gatewayOnline).toBe(DEVICES - offline.length);
  });

  it('step 5: the backup key B rescues the stragglers, which then install and verify the new set', () => {
    expect(r.backup).toMatchObject({ connected: DEVICES, refused: 0, stragglersApplied: offline.length, stragglersVerified: offline.length });
    expect(r.backup.mismatchReporters).toEqual(offline);
    expect(r.final).toMatchObject({ ready: true, coverage: 100, verified: DEVICES, atRisk: 0 });
    const pct = Object.fromEntries(r.final.pinCoverage.map((c) => [c.pin, c.percent]));
    expect(pct).toEqual({ [r.pins.k1]: 100, [r.pins.k2]: 100, [r.pins.backup]: 100 });
    expect(r.rollout.executions['VERIFIED']).toBe(DEVICES);
  });

  it('issue 16: a drift finding and its resolution; the rotation walked as a guided plan whose switch drift watch saw', () => {
    expect(r.lifecycle.drift).toMatchObject({ finding: { kind: 'drift-unpinned', atRisk: DEVICES }, cleared: 1 });
    expect(r.lifecycle.plan.predictionAtRisk).toBe(DEVICES); // before the rollout nobody holds K2
    expect(r.lifecycle.plan.switchRecordedBy).toBe('drift-watch');
    expect(r.lifecycle.plan.steps).toEqual(['publish', 'roll-out', 'confirm-gate', 'record-switch', 'publish-next', 'complete']);
    expect(drill.timeline.all('plan-done')).toHaveLength(1);
  });
});
