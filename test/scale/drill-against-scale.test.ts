/**
 * Issue 13, "Done when": the key-rotation drill run against the scale set-up (scripts/scale-stack.ts, as
 * scripts/scale-local.ts starts it: Mosquitto 2 over TLS, PostgreSQL 15 primary + streaming replica, two gateway
 * replicas), the leader SIGKILLed when the rollout's second wave starts. The drill talks to replica 0 (the leader)
 * and must go on through replica 1; the rollout must finish and every ack a device got a PUBACK for must be in the
 * registry exactly once, with the pin sets' counters equal to the rows (the drill's own check, exactly-once.ts).
 * All real: processes, sockets, broker, database. Nothing is timed; every wait polls a condition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_DRILL, pickOffline } from '../../device-sim/drill/drill-setup';
import { checkExactlyOnce } from '../../device-sim/drill/exactly-once';
import { GatewayApi } from '../../device-sim/drill/gateway-api';
import { KeyRotationDrill, type DrillResult } from '../../device-sim/drill/scenario';
import { writeDrillTarget } from '../../device-sim/drill/target-file';
import { Timeline } from '../../device-sim/drill/timeline';
import { startScaleStack, type ScaleStack } from '../../scripts/scale-stack';
import { postgresAvailable } from '../support/postgres';

const ROOT = resolve(import.meta.dirname, '../..');
const DEVICES = Number(process.env['DRILL_SCALE_DEVICES'] ?? 40);
const FLEET = 'dscale';
let dir = '';
let targetFile = '';
const lines: string[] = [];
let stack: ScaleStack | undefined;
let drill: KeyRotationDrill | undefined;
/** The kill at the start of wave 2: which replica, and the timeline line count then. */
let killed: Promise<{ index: number; apiUrl: string; atLine: number }> | undefined;

describe.skipIf(!postgresAvailable())('the drill against the scale set-up, the leader SIGKILLed mid-rollout', () => {
  let r: DrillResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pingw-drill-scale-'));
    targetFile = join(dir, 'drill-target.json');
    stack = await startScaleStack({
      root: ROOT, dir, replicas: 2, httpPort: 0,
      gatewayEnv: {
        // a 4-id backend pool, 2 per replica, 5 s leases: a dead replica's sessions are taken over within ~6 s
        PINGW_BROKER_POOL_SIZE: '4', PINGW_BROKER_CLIENTS: '2', PINGW_BROKER_LEASE_MS: '5000', PINGW_BROKER_RELOAD_MS: '200',
        PINGW_LEADER_STALL_MS: '3000', PINGW_ROLLOUT_TICK_MS: '250', PINGW_DRIFT_INTERVAL_MS: '0',
        PINGW_LIVE_CHECK_TIMEOUT_MS: '3000', PINGW_DATABASE_POOL_SIZE: '4',
      },
    });
    writeDrillTarget(targetFile, stack.drillTarget());
  }, 120_000);

  afterAll(async () => {
    await drill?.cleanup();
    await stack?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs the whole key-rotation scenario through the replicas and goes on after the kill', async () => {
    const s = stack as ScaleStack;
    // replica 0 starts alone and leads; the drill talks to it first
    await vi.waitFor(() => expect(s.leader()).toBe(0), { timeout: 20_000, interval: 100 });
    drill = new KeyRotationDrill(
      {
        ...DEFAULT_DRILL, root: ROOT, dataDir: join(dir, 'drill'), devices: DEVICES, fleet: FLEET, brokerHost: 'localhost',
        targetFile, workers: 1, connectRate: 200,
      },
      new Timeline((l) => {
        lines.push(l);
        process.stdout.write(`${l}\n`);
        if (killed === undefined && /rollout wave 2\/5 "10%" started/.test(l)) {
          const atLine = lines.length;
          killed = (async () => {
            const index = s.leader() as number;
            const g = s.gateways[index];
            if (g === undefined) throw new Error('no leader to kill');
            await g.kill();
            process.stdout.write(`-- test: replica ${index} (the leader, pid ${g.pid}) SIGKILLed --\n`);
            return { index, apiUrl: g.apiUrl, atLine };
          })();
        }
      }),
    );
    r = await drill.run().catch((e: unknown) => {
      // what the replicas said, for the failure message
      const logs = s.gateways.map((g, i) => `--- replica ${i} (pid ${g.pid}${g.running ? '' : ', dead'}):\n${g.tail(40)}`).join('\n');
      throw new Error(`${(e as Error).message}\n${logs}`);
    });
    expect(drill.workerErrors()).toEqual([]);
  }, 240_000);

  it('the leader was killed while the rollout ran, and another replica took the lead', async () => {
    expect(killed).toBeDefined();
    const k = await (killed as NonNullable<typeof killed>);
    expect(k.index).toBe(0);
    const completedAt = lines.findIndex((l) => / COMPLETED: /.test(l));
    expect(completedAt).toBeGreaterThan(k.atLine); // mid-rollout: it completed after the kill
    expect((stack as ScaleStack).leader()).toBe(1);
    // the drill was talking to the killed replica: it moved to the other one
    expect(r.scale?.failovers.some((f) => f.from === k.apiUrl)).toBe(true);
  });

  it('the rollout finished: every device verified the new set, the stragglers on their return', () => {
    const offline = pickOffline(Array.from({ length: DEVICES }, (_, i) => `${FLEET}-${String(i).padStart(5, '0')}`), DEFAULT_DRILL.offlinePercent);
    expect(r.readinessAfterRollout.atRiskIds).toEqual(offline);
    expect(r.rollout.executions['VERIFIED']).toBe(DEVICES);
    expect(r.final).toMatchObject({ ready: true, coverage: 100, verified: DEVICES, atRisk: 0 });
    expect(r.k2.refusedIds).toEqual(offline); // the key switches happened on Mosquitto's device listener
    expect(r.lifecycle.plan.steps).toEqual(['publish', 'roll-out', 'confirm-gate', 'record-switch', 'publish-next', 'complete']);
  });

  it('every ack a device got a PUBACK for is counted exactly once, and the pin sets\' counters equal the rows', () => {
    const x = r.scale?.exactlyOnce;
    expect(x).toBeDefined();
    if (x === undefined) return;
    expect({ lost: x.lost, twice: x.twice, counterMismatches: x.counterMismatches }).toEqual({ lost: [], twice: [], counterMismatches: [] });
    expect(x.ok).toBe(true);
    // applied + verified of seq 2 and of seq 3 from every device: the comparison is not empty
    expect(x.pubacked).toBeGreaterThanOrEqual(4 * DEVICES);
    const seq2 = x.counters.find((c) => c.seq === 2 && c.status === 'verified');
    expect(seq2).toMatchObject({ counted: DEVICES, rows: DEVICES });
    expect(lines.some((l) => /exactly once: OK/.test(l))).toBe(true);
  });

  it('the check fails on an ack the registry does not hold (it can fail)', async () => {
    const s = stack as ScaleStack;
    const token = (await import('node:fs')).readFileSync(s.drillTarget().adminTokenFile, 'utf8').trim();
    const live = s.gateways.find((g) => g.running);
    const api = new GatewayApi(live?.apiUrl ?? '', token);
    const forged = `${FLEET}-00000|99|verified`;
    const res = await checkExactlyOnce({ api, fleet: FLEET, deviceIds: [`${FLEET}-00000`], pubacked: new Map([[forged, 1]]) });
    expect(res.ok).toBe(false);
    expect(res.lost).toEqual([forged]);
  });
});
