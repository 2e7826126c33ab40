/**
 * Issue 5 integration: real sockets, real SQLite files, 200 real mqtt.js devices running the SPEC §4 receipt check.
 * Gate timings are short (soak 200 ms); the tests wait for conditions (waitFor), never for times.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rolloutRank } from '../../gateway/rollout-engine/index';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, startFixture, type Fixture } from './helpers/rollout-fixture';
import { PIN_A, PIN_C, type SimDevice } from './helpers/sim-device';

/** The engine's order inside a rollout: stable hash rank, then id (gateway/rollout/stable-hash.ts). */
function ranked(rolloutId: string, devices: SimDevice[]): SimDevice[] {
  return [...devices].sort((a, b) => rolloutRank(rolloutId, a.id) - rolloutRank(rolloutId, b.id) || (a.id < b.id ? -1 : 1));
}

describe('a 200-device fleet through the default plan', () => {
  let f: Fixture | null = null;
  let devices: SimDevice[] = [];
  afterEach(async () => {
    await disconnectAll(devices);
    await f?.close();
    f = null;
  });

  it('with 3 % rejecting goes canary → 10 % → 25 % → 50 % → rest → COMPLETED', async () => {
    f = await startFixture();
    devices = await f.enrolFleet('fleet-3', 200);
    await connectAll(f.url, devices);
    const p = await f.pinset('fleet-3');
    const created = await f.call('POST', '/api/rollouts', { pinsetId: p.id, gates: { soakMs: 200 } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body.state).toEqual({ kind: 'DRAFT' });

    // Default plan over 200 devices, each wave a share of the devices still remaining: 2, 20, 45, 67, 66.
    // 6 devices (3 %) reject, chosen by the engine's ranking so that no wave can fail and the whole-rollout
    // error gate (> 5 % of finished, ≥ 10 finished) never trips whatever order the acks arrive in:
    // none in the canary or the 10 % wave, 1 in the 25 % wave (1/45), 2 in the 50 % wave (2/67), 3 in the rest (3/66).
    const order = ranked(id, devices);
    const rejecters = [40, 100, 120, 150, 170, 190].map((i) => order[i]!);
    for (const d of rejecters) d.serve(PIN_C); // their host serves a key the new set does not pin: E_WOULD_BRICK

    expect((await f.call('POST', `/api/rollouts/${id}/start`)).status).toBe(200);
    // A wave may advance (and the last one complete) at 95 % while a device's ack is still in flight: wait until
    // the rollout is COMPLETED and every one of the 200 executions has finished.
    const done = await waitFor('rollout completed and settled', async () => {
      const r = await f!.rollout(id);
      return r.state.kind === 'COMPLETED' && r.executions.byKind.VERIFIED + r.executions.byKind.REJECTED === 200 ? r : null;
    }, 45_000);
    expect(done.waves.map((w: { enrolled: number }) => w.enrolled)).toEqual([2, 20, 45, 67, 66]);
    expect(done.executions.byKind).toMatchObject({ VERIFIED: 194, REJECTED: 6, QUEUED: 0, DELIVERED: 0, APPLIED: 0 });
    expect(done.waves.map((w: { counts: { REJECTED: number } }) => w.counts.REJECTED)).toEqual([0, 0, 1, 2, 3]);
    expect(rejecters.every((d) => d.acks.some((a) => a.status === 'rejected' && a.code === 'E_WOULD_BRICK'))).toBe(true);
    // every device got the envelope once: counts are per device, not per attempt
    expect(devices.every((d) => d.updates === 1)).toBe(true);

    // coverage from the counters: 194 verified of 200 for the pins of the new set
    const coverage = (await f.call('GET', '/api/fleets/fleet-3/coverage')).body;
    expect(coverage.find((r: { pin: string }) => r.pin === PIN_A)).toMatchObject({ verified: 194, total: 200, percent: 97 });
    // every state transition is in the audit log
    const audit = (await f.call('GET', '/api/audit?limit=1000')).body.items.filter((e: { target: string }) => e.target === id);
    expect(audit.filter((e: { action: string }) => e.action === 'rollout.wave')).toHaveLength(5);
    expect(audit.some((e: { action: string; detail: { to: string } }) => e.action === 'rollout.state' && e.detail.to === 'COMPLETED')).toBe(true);
  });

  it('with 20 % rejecting pauses itself at the canary (wave-failed) and sends nothing further', async () => {
    f = await startFixture();
    devices = await f.enrolFleet('fleet-20', 200);
    await connectAll(f.url, devices);
    const p = await f.pinset('fleet-20');
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, gates: { soakMs: 200 } })).body.id as string;
    // 40 devices (20 %): every 5th in the engine's order, starting with the highest-ranked one — a canary device.
    const order = ranked(id, devices);
    const rejecters = order.filter((_, i) => i % 5 === 0);
    expect(rejecters).toHaveLength(40);
    for (const d of rejecters) d.serve(PIN_C);

    await f.call('POST', `/api/rollouts/${id}/start`);
    const paused = await waitFor('rollout paused', async () => {
      const r = await f!.rollout(id);
      return r.state.kind === 'PAUSED' ? r : null;
    }, 30_000);
    // the canary is min(1 %, 5) = 2 devices; one rejected, so 95 % can never be verified
    expect(paused.pauseReason).toEqual({ kind: 'wave-failed', wave: 0, failed: 1, size: 2 });
    expect(paused.state).toMatchObject({ kind: 'PAUSED', wave: 0 });
    expect(paused.executions.total).toBe(2);
    expect(paused.gate.decision).toMatchObject({ kind: 'pause', reason: { kind: 'wave-failed' } });
    const canary = order.slice(0, 2);
    await waitFor('the other canary verified', () => canary[1]!.acks.some((a) => a.status === 'verified'));
    expect(devices.filter((d) => d.updates > 0).map((d) => d.id).sort()).toEqual(canary.map((d) => d.id).sort());
    // a tick later it still holds for the operator
    await f.gw.rollouts.tick(id);
    expect((await f.rollout(id)).state.kind).toBe('PAUSED');
  });
});
